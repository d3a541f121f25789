// Producer-state snapshot bytes (stored by src/storage as <offset>.snapshot: the state after every
// batch below <offset>). Kafka's snapshot keeps one batch per producer; this one keeps all retained
// batches, so every retry a client can still send is de-duplicated after a restart too.
//
//   version:int16 crc32c:uint32 (over everything after it)
//   producers:int32 { id:int64 epoch:int16 coordinatorEpoch:int32 lastTimestamp:int64
//                     txnFirstOffset:int64 batches:int8 { firstSeq:int32 lastSeq:int32
//                     firstOffset:int64 lastOffset:int64 timestamp:int64 } }
//   version 1 only: aborted:int32 { producerId:int64 firstOffset:int64 lastOffset:int64 lastStableOffset:int64 }
//
// Version 2 dropped the aborted-transaction index: it lives in per-segment .txnindex files
// (src/storage/txn-index.ts), as in Kafka. A version-1 snapshot still loads; its aborted list is
// returned as `legacyAborted` so the loader can move it into the txn indexes (an upgraded broker
// has no .txnindex files yet).
import { crc32c } from '../protocol/crc32c.ts';
import { Reader } from '../protocol/reader.ts';
import { Writer } from '../protocol/writer.ts';
import { BATCHES_RETAINED, PartitionProducerState, type AbortedTxn, type ProducerEntry } from './producer-state.ts';

const VERSION = 2;
const VERSION_WITH_ABORTED = 1;
const HEADER = 6;

export class SnapshotFormatError extends Error {
  override name = 'SnapshotFormatError';
}

export function encodeProducerSnapshot(state: PartitionProducerState): Buffer {
  const w = new Writer(64 + state.producers.size * 64);
  w.writeInt16(VERSION);
  w.writeUInt32(0);
  w.writeInt32(state.producers.size);
  for (const e of state.producers.values()) {
    w.writeInt64(e.producerId);
    w.writeInt16(e.epoch);
    w.writeInt32(e.coordinatorEpoch);
    w.writeInt64(BigInt(e.lastTimestamp));
    w.writeInt64(BigInt(e.txnFirstOffset));
    w.writeInt8(e.batches.length);
    for (const b of e.batches) {
      w.writeInt32(b.firstSeq);
      w.writeInt32(b.lastSeq);
      w.writeInt64(BigInt(b.firstOffset));
      w.writeInt64(BigInt(b.lastOffset));
      w.writeInt64(BigInt(b.timestamp));
    }
  }
  const buf = w.toBuffer();
  buf.writeUInt32BE(crc32c(buf, HEADER), 2);
  return buf;
}

export interface DecodedSnapshot {
  state: PartitionProducerState;
  /** The aborted index of a version-1 snapshot; empty for version 2. */
  legacyAborted: AbortedTxn[];
}

/** Throws SnapshotFormatError for bytes that are not a complete, intact snapshot. */
export function decodeProducerSnapshot(buf: Buffer): DecodedSnapshot {
  if (buf.length < HEADER) throw new SnapshotFormatError('snapshot too short');
  const version = buf.readInt16BE(0);
  if (version !== VERSION && version !== VERSION_WITH_ABORTED) throw new SnapshotFormatError(`unknown snapshot version ${version}`);
  if (crc32c(buf, HEADER) !== buf.readUInt32BE(2)) throw new SnapshotFormatError('snapshot checksum mismatch');
  const state = new PartitionProducerState();
  const legacyAborted: AbortedTxn[] = [];
  try {
    const r = new Reader(buf, HEADER);
    const n = r.readInt32();
    const txns: ProducerEntry[] = [];
    for (let i = 0; i < n; i++) {
      const e: ProducerEntry = {
        producerId: r.readInt64(),
        epoch: r.readInt16(),
        coordinatorEpoch: r.readInt32(),
        lastTimestamp: Number(r.readInt64()),
        txnFirstOffset: Number(r.readInt64()),
        batches: [],
      };
      const count = r.readInt8();
      if (count < 0 || count > BATCHES_RETAINED) throw new SnapshotFormatError(`bad batch count ${count}`);
      for (let j = 0; j < count; j++) {
        e.batches.push({
          firstSeq: r.readInt32(),
          lastSeq: r.readInt32(),
          firstOffset: Number(r.readInt64()),
          lastOffset: Number(r.readInt64()),
          timestamp: Number(r.readInt64()),
        });
      }
      state.producers.set(e.producerId, e);
      if (e.txnFirstOffset >= 0) txns.push(e);
    }
    txns.sort((a, b) => a.txnFirstOffset - b.txnFirstOffset);
    for (const e of txns) state.ongoing.set(e.producerId, e.txnFirstOffset);
    const m = version === VERSION_WITH_ABORTED ? r.readInt32() : 0;
    for (let i = 0; i < m; i++) {
      legacyAborted.push({
        producerId: r.readInt64(),
        firstOffset: Number(r.readInt64()),
        lastOffset: Number(r.readInt64()),
        lastStableOffset: Number(r.readInt64()),
      });
    }
    if (r.remaining !== 0) throw new SnapshotFormatError(`${r.remaining} bytes after the snapshot`);
  } catch (err) {
    if (err instanceof SnapshotFormatError) throw err;
    throw new SnapshotFormatError(`truncated snapshot: ${(err as Error).message}`);
  }
  return { state, legacyAborted };
}
