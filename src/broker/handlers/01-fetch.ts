// Fetch (key 1), versions 0–12 (13+ address topics by id: not advertised yet).
// Long poll (max.wait.ms / min.bytes), response and partition byte limits, fetch sessions (KIP-227,
// v7+), isolation_level (v4+): read_committed reads below the last stable offset and gets the
// aborted transactions of what it read (issue 6). v0–3 get magic 0/1 message sets (down-converted).
// Clients may not pose as followers (CVE-2018-1288): a replica id ≥ 0 is refused until replication
// exists. v12+: a partition without data gets an empty, non-null records field.
import { defineHandler } from '../handler.ts';
import { ErrorCode } from '../../protocol/errors.ts';
import { fetchPartitions, READ_COMMITTED, type FetchTarget, type FetchResult } from '../fetch.ts';
import { sessionKey, type FetchSession } from '../fetch-sessions.ts';
import {
  createFetchResponse, createFetchableTopicResponse, createPartitionData, type FetchableTopicResponse,
} from '../../protocol/generated/fetch-response.ts';
import type { FetchRequest } from '../../protocol/generated/fetch-request.ts';

function requestTargets(req: FetchRequest): FetchTarget[] {
  const out: FetchTarget[] = [];
  for (const t of req.topics) {
    for (const p of t.partitions) {
      out.push({ topic: t.topic, partition: p.partition, fetchOffset: Number(p.fetchOffset), partitionMaxBytes: p.partitionMaxBytes });
    }
  }
  return out;
}

function buildResponse(results: FetchResult[], version: number, isolation: number, session: FetchSession | null, incremental: boolean): FetchableTopicResponse[] {
  const topics: FetchableTopicResponse[] = [];
  let current: FetchableTopicResponse | null = null;
  for (const r of results) {
    if (session !== null) {
      const sp = session.partitions.get(sessionKey(r.target.topic, r.target.partition));
      if (sp !== undefined) {
        const changed = r.records.length > 0 || r.errorCode !== 0 || sp.sentHighWatermark !== r.highWatermark || sp.sentLogStartOffset !== r.logStartOffset;
        sp.sentHighWatermark = r.highWatermark;
        sp.sentLogStartOffset = r.logStartOffset;
        if (incremental && !changed) continue;
      }
    }
    if (current === null || current.topic !== r.target.topic) {
      current = createFetchableTopicResponse({ topic: r.target.topic, partitions: [] });
      topics.push(current);
    }
    current.partitions.push(createPartitionData({
      partitionIndex: r.target.partition,
      errorCode: r.errorCode,
      highWatermark: BigInt(r.highWatermark),
      lastStableOffset: BigInt(r.lastStableOffset),
      logStartOffset: BigInt(r.logStartOffset),
      abortedTransactions: version >= 4 && isolation === READ_COMMITTED ? (r.abortedTransactions ?? []) : null,
      preferredReadReplica: -1,
      records: r.records,
    }));
  }
  return topics;
}

export default defineHandler(1, 0, 12, async (req, ctx) => {
  const broker = ctx.broker;
  const version = ctx.apiVersion;
  const now = broker.now();
  const replicaId = version >= 15 ? req.replicaState.replicaId : req.replicaId;
  if (replicaId >= 0) {
    const topics = req.topics.map((t) => createFetchableTopicResponse({
      topic: t.topic,
      partitions: t.partitions.map((p) => createPartitionData({ partitionIndex: p.partition, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, highWatermark: -1n, lastStableOffset: -1n })),
    }));
    return createFetchResponse({ responses: topics });
  }

  let session: FetchSession | null = null;
  let incremental = false;
  let targets: FetchTarget[];
  if (version >= 7 && req.sessionId !== 0 && req.sessionEpoch > 0) {
    const s = broker.fetchSessions.get(req.sessionId, now);
    if (s === undefined) return createFetchResponse({ errorCode: ErrorCode.FETCH_SESSION_ID_NOT_FOUND, sessionId: 0 });
    if (s.epoch !== req.sessionEpoch) return createFetchResponse({ errorCode: ErrorCode.INVALID_FETCH_SESSION_EPOCH, sessionId: 0 });
    for (const t of requestTargets(req)) {
      const key = sessionKey(t.topic, t.partition);
      const sp = s.partitions.get(key);
      if (sp === undefined) s.partitions.set(key, { ...t, sentHighWatermark: -2, sentLogStartOffset: -2 });
      else {
        sp.fetchOffset = t.fetchOffset;
        sp.partitionMaxBytes = t.partitionMaxBytes;
      }
    }
    for (const f of req.forgottenTopicsData) {
      for (const p of f.partitions) s.partitions.delete(sessionKey(f.topic, p));
    }
    s.epoch = s.epoch >= 0x7fffffff ? 1 : s.epoch + 1;
    session = s;
    incremental = true;
    targets = [...s.partitions.values()].map((sp) => ({ topic: sp.topic, partition: sp.partition, fetchOffset: sp.fetchOffset, partitionMaxBytes: sp.partitionMaxBytes }));
  } else {
    if (version >= 7 && req.sessionId !== 0) broker.fetchSessions.remove(req.sessionId);
    targets = requestTargets(req);
    if (version >= 7 && req.sessionEpoch === 0) {
      session = broker.fetchSessions.create(now);
      if (session !== null) {
        for (const t of targets) session.partitions.set(sessionKey(t.topic, t.partition), { ...t, sentHighWatermark: -2, sentLogStartOffset: -2 });
      }
    }
  }

  const results = await fetchPartitions(broker, targets, {
    maxBytes: version >= 3 ? req.maxBytes : 0x7fffffff,
    minBytes: req.minBytes,
    maxWaitMs: req.maxWaitMs,
    apiVersion: version,
    isolationLevel: version >= 4 ? req.isolationLevel : 0,
    buffers: ctx.buffers,
  });
  return createFetchResponse({
    sessionId: session?.id ?? 0,
    responses: buildResponse(results, version, req.isolationLevel, session, incremental),
  });
});
