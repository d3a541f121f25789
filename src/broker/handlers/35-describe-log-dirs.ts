// DescribeLogDirs (key 35), versions 0–4 (KIP-113; v3 adds the top-level error code, v4 the
// directory's total and usable bytes, KIP-827). Brook keeps every partition in one directory, the
// node's data dir, reported by absolute path. A null topic list means every local partition;
// listed partitions this node does not hold are left out (Kafka has no error for them).
// Total and usable bytes are -1 when the file system cannot say (statfs failed).
// offset_lag is 0 and is_future_key false: there are no intra-broker moves (AlterReplicaLogDirs).
import { statfs } from 'node:fs/promises';
import { resolve } from 'node:path';
import { defineHandler } from '../handler.ts';
import { ErrorCode } from '../../protocol/errors.ts';
import {
  createDescribeLogDirsResponse, createDescribeLogDirsResult, createDescribeLogDirsTopic, createDescribeLogDirsPartition,
  type DescribeLogDirsTopic,
} from '../../protocol/generated/describe-log-dirs-response.ts';
import type { DescribableLogDirTopic } from '../../protocol/generated/describe-log-dirs-request.ts';
import type { Broker } from '../broker.ts';

function localPartitions(broker: Broker, wanted: DescribableLogDirTopic[] | null): DescribeLogDirsTopic[] {
  const want = wanted === null ? null : new Map(wanted.map((t) => [t.topic, new Set(t.partitions)]));
  const byTopic = new Map<string, DescribeLogDirsTopic>();
  for (const log of broker.logs.all()) {
    if (want !== null && !want.get(log.topic)?.has(log.partition)) continue;
    let t = byTopic.get(log.topic);
    if (t === undefined) {
      t = createDescribeLogDirsTopic({ name: log.topic });
      byTopic.set(log.topic, t);
    }
    t.partitions.push(createDescribeLogDirsPartition({
      partitionIndex: log.partition,
      partitionSize: BigInt(log.sizeInBytes()),
      offsetLag: 0n,
      isFutureKey: false,
    }));
  }
  for (const t of byTopic.values()) t.partitions.sort((a, b) => a.partitionIndex - b.partitionIndex);
  return [...byTopic.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

async function diskSpace(dir: string): Promise<{ totalBytes: bigint; usableBytes: bigint } | null> {
  try {
    const s = await statfs(dir, { bigint: true });
    return { totalBytes: s.blocks * s.bsize, usableBytes: s.bavail * s.bsize };
  } catch {
    return null;
  }
}

export default defineHandler(35, 0, 4, async (req, ctx) => {
  const dir = resolve(ctx.broker.settings.dataDir);
  // A directory taken offline after an I/O failure (KIP-112) is reported with KAFKA_STORAGE_ERROR.
  const offline = ctx.broker.logs.offlineDirs().some((d) => resolve(d) === dir);
  const topics = localPartitions(ctx.broker, req.topics);
  const space = ctx.apiVersion >= 4 ? await diskSpace(dir) : null;
  if (ctx.apiVersion >= 4 && space === null) ctx.broker.log(`describe log dirs: cannot read disk space of ${dir}`);
  return createDescribeLogDirsResponse({
    results: [createDescribeLogDirsResult({
      errorCode: offline ? ErrorCode.KAFKA_STORAGE_ERROR : 0,
      logDir: dir,
      topics,
      totalBytes: space?.totalBytes ?? -1n,
      usableBytes: space?.usableBytes ?? -1n,
    })],
  });
});
