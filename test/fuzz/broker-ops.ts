// A normal client's produce and fetch, over the generated codec, for the hostile-input tests:
// they prove that the broker still works after being attacked.
import { KafkaConnection } from '../../src/client/connection.ts';
import { buildRecordBatch, decodeRecords, splitBatches, type RecordInput } from '../../src/protocol/record-batch.ts';
import { createMetadataRequest, createMetadataRequestTopic } from '../../src/protocol/generated/metadata-request.ts';
import { createCreateTopicsRequest, createCreatableTopic } from '../../src/protocol/generated/create-topics-request.ts';
import { createFetchRequest, createFetchTopic, createFetchPartition } from '../../src/protocol/generated/fetch-request.ts';

export async function createTopic(conn: KafkaConnection, topic: string, configs: Record<string, string> = {}): Promise<void> {
  const res = await conn.send(19, 4, createCreateTopicsRequest({
    topics: [createCreatableTopic({ name: topic, numPartitions: 1, replicationFactor: 1, configs: Object.entries(configs).map(([name, value]) => ({ name, value })) })],
    timeoutMs: 10_000,
  }));
  const code = res.topics[0].errorCode;
  if (code !== 0 && code !== 36) throw new Error(`creating ${topic}: error ${code} ${res.topics[0].errorMessage ?? ''}`);
  for (let i = 0; i < 100; i++) {
    const md = await conn.send(3, 4, createMetadataRequest({ topics: [createMetadataRequestTopic({ name: topic })], allowAutoTopicCreation: false }));
    if (md.topics[0].errorCode === 0 && md.topics[0].partitions.length > 0) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`${topic} never became available`);
}

/** Produces raw `records` bytes (one or more batches) to partition 0; returns the partition answer. */
export async function produceRaw(conn: KafkaConnection, topic: string, records: Buffer, opts: { version?: number; acks?: number } = {}): Promise<{ errorCode: number; baseOffset: bigint; errorMessage: string | null }> {
  const res = await conn.send(0, opts.version ?? 7, {
    transactionalId: null, acks: opts.acks ?? -1, timeoutMs: 10_000,
    topicData: [{ name: topic, partitionData: [{ index: 0, records }] }],
  });
  const p = res.responses[0].partitionResponses[0];
  return { errorCode: p.errorCode, baseOffset: p.baseOffset, errorMessage: p.errorMessage ?? null };
}

export function produce(conn: KafkaConnection, topic: string, records: RecordInput[]) {
  return produceRaw(conn, topic, buildRecordBatch({ records }));
}

export interface FetchedPartition {
  errorCode: number;
  highWatermark: bigint;
  records: { offset: number; key: Buffer | null; value: Buffer | null }[];
}

export async function fetchFrom(conn: KafkaConnection, topic: string, offset: number, opts: { version?: number; replicaId?: number; maxBytes?: number } = {}): Promise<FetchedPartition> {
  const maxBytes = opts.maxBytes ?? 4 << 20;
  const res = await conn.send(1, opts.version ?? 11, createFetchRequest({
    replicaId: opts.replicaId ?? -1, maxWaitMs: 0, minBytes: 0, maxBytes, isolationLevel: 0,
    topics: [createFetchTopic({ topic, partitions: [createFetchPartition({ partition: 0, fetchOffset: BigInt(offset), partitionMaxBytes: maxBytes })] })],
  }));
  const p = res.responses[0].partitions[0];
  const records: FetchedPartition['records'] = [];
  const bytes = p.records ?? Buffer.alloc(0);
  for (const { pos, size } of splitBatches(bytes, true)) {
    for (const r of decodeRecords(bytes.subarray(pos, pos + size))) records.push({ offset: r.offset, key: r.key, value: r.value });
  }
  return { errorCode: p.errorCode, highWatermark: p.highWatermark, records };
}
