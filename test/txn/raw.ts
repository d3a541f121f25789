// Raw protocol calls for the transaction tests, over Brook's own client connection: exact versions,
// exact batches, exact error codes.
import { KafkaConnection } from '../../src/client/connection.ts';
import { buildRecordBatch, decodeRecords, isControlBatch, splitBatches } from '../../src/protocol/record-batch.ts';
import { createProduceRequest } from '../../src/protocol/generated/produce-request.ts';
import { createListOffsetsRequest } from '../../src/protocol/generated/list-offsets-request.ts';
import { createFetchRequest } from '../../src/protocol/generated/fetch-request.ts';

export class Raw {
  readonly conn: KafkaConnection;

  private constructor(conn: KafkaConnection) {
    this.conn = conn;
  }

  static async connect(host: string, port: number): Promise<Raw> {
    return new Raw(await KafkaConnection.connect(host, port, { clientId: 'txn-raw' }));
  }

  close(): void {
    this.conn.close();
  }

  async initProducerId(transactionalId: string | null, opts: { version?: number; timeoutMs?: number; producerId?: bigint; epoch?: number } = {}) {
    return this.conn.send(22, opts.version ?? 4, {
      transactionalId, transactionTimeoutMs: opts.timeoutMs ?? 60_000, producerId: opts.producerId ?? -1n, producerEpoch: opts.epoch ?? -1,
    });
  }

  async addPartitions(transactionalId: string, producerId: bigint, epoch: number, topic: string, partitions: number[], version = 3) {
    const r = await this.conn.send(24, version, {
      transactions: [], v3AndBelowTransactionalId: transactionalId, v3AndBelowProducerId: producerId, v3AndBelowProducerEpoch: epoch,
      v3AndBelowTopics: [{ name: topic, partitions }],
    });
    return r.resultsByTopicV3AndBelow.flatMap((t) => t.resultsByPartition.map((p) => p.partitionErrorCode));
  }

  async endTxn(transactionalId: string, producerId: bigint, epoch: number, committed: boolean, version = 3): Promise<number> {
    return (await this.conn.send(26, version, { transactionalId, producerId, producerEpoch: epoch, committed })).errorCode;
  }

  async addOffsets(transactionalId: string, producerId: bigint, epoch: number, groupId: string, version = 3): Promise<number> {
    return (await this.conn.send(25, version, { transactionalId, producerId, producerEpoch: epoch, groupId })).errorCode;
  }

  /** Produce v9 of one batch; returns the partition's answer. */
  async produce(topic: string, partition: number, records: Buffer, transactionalId: string | null = null) {
    const r = await this.conn.send(0, 9, createProduceRequest({
      transactionalId, acks: -1, timeoutMs: 10_000,
      topicData: [{ name: topic, partitionData: [{ index: partition, records }] }],
    }));
    const p = r.responses[0].partitionResponses[0];
    return { errorCode: p.errorCode, baseOffset: Number(p.baseOffset) };
  }

  async latest(topic: string, partition: number, isolationLevel: 0 | 1): Promise<number> {
    const r = await this.conn.send(2, 5, createListOffsetsRequest({
      replicaId: -1, isolationLevel, topics: [{ name: topic, partitions: [{ partitionIndex: partition, timestamp: -1n, currentLeaderEpoch: -1, maxNumOffsets: 1 }] }],
    }));
    return Number(r.topics[0].partitions[0].offset);
  }

  /** One Fetch v11 of a partition from `offset`. */
  async fetch(topic: string, partition: number, offset: number, isolationLevel: 0 | 1) {
    const r = await this.conn.send(1, 11, createFetchRequest({
      replicaId: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20, isolationLevel, sessionId: 0, sessionEpoch: -1,
      topics: [{ topic, topicId: '', partitions: [{ partition, currentLeaderEpoch: -1, fetchOffset: BigInt(offset), lastFetchedEpoch: -1, logStartOffset: -1n, partitionMaxBytes: 1 << 20, replicaDirectoryId: '' }] }],
      forgottenTopicsData: [], rackId: '',
    }));
    const p = r.responses[0].partitions[0];
    const batches: { baseOffset: number; producerId: bigint; control: boolean; values: string[] }[] = [];
    const data = p.records ?? Buffer.alloc(0);
    for (const { pos, size } of splitBatches(data, true)) {
      const b = data.subarray(pos, pos + size);
      batches.push({
        baseOffset: Number(b.readBigInt64BE(0)),
        producerId: b.readBigInt64BE(43),
        control: isControlBatch(b, 0),
        values: isControlBatch(b, 0) ? [] : decodeRecords(b).map((rec) => rec.value?.toString() ?? ''),
      });
    }
    return {
      errorCode: p.errorCode,
      highWatermark: Number(p.highWatermark),
      lastStableOffset: Number(p.lastStableOffset),
      aborted: p.abortedTransactions?.map((a) => ({ producerId: a.producerId, firstOffset: Number(a.firstOffset) })) ?? null,
      batches,
    };
  }
}

export function batchOf(values: string[], opts: { producerId?: bigint; epoch?: number; seq?: number; transactional?: boolean } = {}): Buffer {
  return buildRecordBatch({
    records: values.map((v) => ({ key: null, value: Buffer.from(v), timestamp: Date.now() })),
    producerId: opts.producerId ?? -1n, producerEpoch: opts.epoch ?? -1, baseSequence: opts.seq ?? -1, transactional: opts.transactional,
  });
}
