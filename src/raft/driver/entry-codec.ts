// Raft entries as v2 record batches, the form they take on disk and in KRaft Fetch responses.
//
// One entry is one batch: `baseOffset` is the entry's offset and `partitionLeaderEpoch` its epoch
// (KIP-595 stores the epoch there too). Brook's Raft core counts offsets per entry, so a batch of
// N records occupies one offset here, where Kafka's log would give it N; only Brook nodes read
// this log, and the controller numbers the records inside (raft-metadata-log.ts).
//
// - A data entry's payload is itself a complete v2 batch (the metadata log builds it, one record
//   per metadata record, as KRaft's MetadataRecordSerde frames them); only its base offset and
//   leader epoch are set here, which the batch CRC does not cover.
// - A leader-change entry is a control batch holding one LeaderChangeMessage (ControlRecordType
//   LEADER_CHANGE = 2, KIP-595).

import { Reader } from '../../protocol/reader.ts';
import { Writer } from '../../protocol/writer.ts';
import {
  batchSizeAt, buildRecordBatch, decodeRecords, isControlBatch, LOG_OVERHEAD, MIN_BATCH_LENGTH,
  partitionLeaderEpochOf, baseOffsetOf, setBaseOffset, setPartitionLeaderEpoch, validateBatch,
} from '../../protocol/record-batch.ts';
import { ControlType, controlTypeOf, encodeControlKey } from '../../protocol/records.ts';
import { createVoter, decodeLeaderChangeMessage, encodeLeaderChangeMessage } from '../../protocol/generated/leader-change-message.ts';
import type { Entry } from '../types.ts';

export class EntryFormatError extends Error {
  override name = 'EntryFormatError';
}

const INTERNAL_BATCH = { internal: true } as const;

export function encodeEntry(e: Entry): Buffer {
  let batch: Buffer;
  if (e.data.type === 'data') {
    batch = Buffer.from(e.data.payload);
    if (validateBatch(batch, 0, INTERNAL_BATCH) !== 0 || batchSizeAt(batch, 0) !== batch.length) {
      throw new EntryFormatError(`entry ${e.offset}: a data payload must be one v2 record batch`);
    }
  } else {
    const w = new Writer(64);
    encodeLeaderChangeMessage(w, {
      version: 0,
      leaderId: e.data.leaderId,
      voters: e.data.voters.map((voterId) => createVoter({ voterId })),
      grantingVoters: e.data.grantingVoters.map((voterId) => createVoter({ voterId })),
    }, 0);
    batch = buildRecordBatch({
      records: [{ key: encodeControlKey(ControlType.LeaderChange), value: w.toBuffer(), timestamp: 0 }],
      control: true,
    });
  }
  setBaseOffset(batch, 0, e.offset);
  setPartitionLeaderEpoch(batch, 0, e.epoch);
  return batch;
}

/** Decodes the batch that fills `batch` exactly (checked: CRC, v2, length). */
export function decodeEntry(batch: Buffer): Entry {
  if (validateBatch(batch, 0, INTERNAL_BATCH) !== 0 || batchSizeAt(batch, 0) !== batch.length) {
    throw new EntryFormatError('not a valid record batch');
  }
  const offset = baseOffsetOf(batch);
  const epoch = partitionLeaderEpochOf(batch);
  if (!isControlBatch(batch)) return { offset, epoch, data: { type: 'data', payload: batch } };
  const [record] = decodeRecords(batch);
  if (record === undefined || controlTypeOf(record.key) !== ControlType.LeaderChange || record.value === null) {
    throw new EntryFormatError(`entry ${offset}: unknown control batch`);
  }
  const m = decodeLeaderChangeMessage(new Reader(record.value), 0);
  return {
    offset,
    epoch,
    data: {
      type: 'leader-change',
      leaderId: m.leaderId,
      voters: m.voters.map((v) => v.voterId),
      grantingVoters: m.grantingVoters.map((v) => v.voterId),
    },
  };
}

export function encodeEntries(entries: readonly Entry[]): Buffer {
  return Buffer.concat(entries.map(encodeEntry));
}

/**
 * Splits concatenated batches into entries. Stops at the first batch that is incomplete or fails
 * its checks and reports where the valid prefix ends (recovery truncates a torn tail there).
 */
export function scanEntries(buf: Buffer): { entries: (Entry & { size: number })[]; validBytes: number } {
  const entries: (Entry & { size: number })[] = [];
  let pos = 0;
  while (buf.length - pos >= LOG_OVERHEAD) {
    const length = buf.readInt32BE(pos + 8);
    if (length < MIN_BATCH_LENGTH || pos + LOG_OVERHEAD + length > buf.length) break;
    const end = pos + LOG_OVERHEAD + length;
    let entry: Entry;
    try {
      entry = decodeEntry(buf.subarray(pos, end));
    } catch {
      break;
    }
    const prev = entries[entries.length - 1];
    if (prev !== undefined && (entry.offset !== prev.offset + 1 || entry.epoch < prev.epoch)) break;
    entries.push({ ...entry, size: end - pos });
    pos = end;
  }
  return { entries, validBytes: pos };
}

/** Decodes a Fetch response's records; anything malformed rejects the whole answer. */
export function decodeFetchedEntries(buf: Buffer | null): Entry[] {
  if (buf === null || buf.length === 0) return [];
  const { entries, validBytes } = scanEntries(buf);
  if (validBytes !== buf.length) throw new EntryFormatError('malformed records in a metadata fetch response');
  return entries.map(({ offset, epoch, data }) => ({ offset, epoch, data }));
}
