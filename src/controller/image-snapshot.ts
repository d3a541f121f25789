// A metadata image written out as records and read back (KIP-630 metadata snapshots): replaying
// the records of `imageToRecords(image)` onto an empty image gives an image equal to `image`.
// Snapshot bytes are laid out as KRaft lays out a `.checkpoint`: a control batch with the
// SnapshotHeaderRecord, one batch of metadata records (one record per entity: features, brokers,
// topics with their partitions as they are now, config overrides, the producer-id block), and a
// control batch with the SnapshotFooterRecord. The records carry the offsets that end at the
// image's metadata offset, so the controller's record numbering continues after a restore.

import { Writer } from '../protocol/writer.ts';
import { buildRecordBatch, decodeRecords, isControlBatch, splitBatches } from '../protocol/record-batch.ts';
import { ControlType, controlTypeOf, encodeControlKey } from '../protocol/records.ts';
import { MetadataRecordType as T } from '../protocol/generated/metadata/index.ts';
import { createPartitionRecord } from '../protocol/generated/metadata/partition-record.ts';
import { createRegisterBrokerRecord } from '../protocol/generated/metadata/register-broker-record.ts';
import { encodeSnapshotHeaderRecord } from '../protocol/generated/snapshot-header-record.ts';
import { encodeSnapshotFooterRecord } from '../protocol/generated/snapshot-footer-record.ts';
import { emptyImage, parseConfigKey, partitionsOf, type MetadataImage, type PartitionImage } from './image.ts';
import { MetadataDelta, type MetadataChanges, type PartitionChange } from './metadata-delta.ts';
import { decodeMetadataRecord, encodeMetadataRecord, metadataRecord, type MetadataRecord } from './record-codec.ts';

export class SnapshotFormatError extends Error {
  override name = 'SnapshotFormatError';
}

/** One record per entity of the image, in an order replay accepts (topics before partitions). */
export function imageToRecords(image: MetadataImage): MetadataRecord[] {
  const out: MetadataRecord[] = [];
  for (const [name, featureLevel] of image.features) out.push(metadataRecord(T.FeatureLevelRecord, { name, featureLevel }));
  for (const b of [...image.brokers.values()].sort((x, y) => x.id - y.id)) {
    out.push(metadataRecord(T.RegisterBrokerRecord, createRegisterBrokerRecord({
      brokerId: b.id, incarnationId: b.incarnationId, brokerEpoch: b.epoch,
      endPoints: b.endpoints.map((e) => ({ ...e })), features: b.features.map((f) => ({ ...f })),
      rack: b.rack, fenced: b.fenced, inControlledShutdown: b.inControlledShutdown, logDirs: b.logDirs.slice(),
    })));
  }
  for (const t of image.topicsById.values()) {
    out.push(metadataRecord(T.TopicRecord, { name: t.name, topicId: t.id }));
    for (const p of partitionsOf(t)) {
      out.push(metadataRecord(T.PartitionRecord, createPartitionRecord({
        partitionId: p.partition, topicId: p.topicId, replicas: p.replicas.slice(), isr: p.isr.slice(),
        removingReplicas: p.removingReplicas.slice(), addingReplicas: p.addingReplicas.slice(), leader: p.leader,
        leaderRecoveryState: p.leaderRecoveryState, leaderEpoch: p.leaderEpoch, partitionEpoch: p.partitionEpoch,
        directories: p.directories.slice(),
        eligibleLeaderReplicas: p.elr.length > 0 ? p.elr.slice() : null,
        lastKnownElr: p.lastKnownElr.length > 0 ? p.lastKnownElr.slice() : null,
      })));
    }
  }
  for (const [key, entries] of image.configs) {
    const { resourceType, resourceName } = parseConfigKey(key);
    for (const [name, value] of entries) out.push(metadataRecord(T.ConfigRecord, { resourceType, resourceName, name, value }));
  }
  if (image.nextProducerId > 0n) {
    out.push(metadataRecord(T.ProducerIdsRecord, { brokerId: -1, brokerEpoch: -1n, nextProducerId: image.nextProducerId }));
  }
  // Keep the offset even when nothing is left to describe.
  if (out.length === 0 && image.metadataOffset >= 0) out.push(metadataRecord(T.NoOpRecord, {}));
  return out;
}

function controlBatch(type: number, value: Buffer): Buffer {
  return buildRecordBatch({ records: [{ key: encodeControlKey(type), value, timestamp: 0 }], control: true });
}

/** The snapshot bytes of an image. */
export function encodeImageSnapshot(image: MetadataImage, timestamp: number): Buffer {
  const records = imageToRecords(image);
  const header = new Writer(16);
  encodeSnapshotHeaderRecord(header, { version: 0, lastContainedLogTimestamp: BigInt(timestamp) }, 0);
  const footer = new Writer(8);
  encodeSnapshotFooterRecord(footer, { version: 0 }, 0);
  const parts = [controlBatch(ControlType.SnapshotHeader, header.toBuffer())];
  if (records.length > 0) {
    parts.push(buildRecordBatch({
      baseOffset: image.metadataOffset - records.length + 1,
      records: records.map((r) => ({ key: null, value: encodeMetadataRecord(r), timestamp })),
    }));
  }
  parts.push(controlBatch(ControlType.SnapshotFooter, footer.toBuffer()));
  return Buffer.concat(parts);
}

/** Rebuilds the image a snapshot holds (throws SnapshotFormatError or a replay error). */
export function decodeImageSnapshot(data: Uint8Array, clusterId: string): MetadataImage {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const delta = new MetadataDelta(emptyImage(clusterId));
  let header = false;
  let footer = false;
  for (const { pos, size } of splitBatches(buf)) {
    const batch = buf.subarray(pos, pos + size);
    const records = decodeRecords(batch);
    if (isControlBatch(batch)) {
      const type = controlTypeOf(records[0]?.key ?? null);
      if (type === ControlType.SnapshotHeader) header = true;
      else if (type === ControlType.SnapshotFooter) footer = true;
      continue;
    }
    for (const r of records) {
      if (r.value === null) throw new SnapshotFormatError(`snapshot record at ${r.offset} has no value`);
      delta.replay(decodeMetadataRecord(Buffer.from(r.value)), r.offset);
    }
  }
  if (!header || !footer) throw new SnapshotFormatError('snapshot without its header or footer');
  return delta.apply().image;
}

function samePartition(a: PartitionImage, b: PartitionImage): boolean {
  return a.leader === b.leader && a.leaderEpoch === b.leaderEpoch && a.partitionEpoch === b.partitionEpoch
    && a.isr.join() === b.isr.join() && a.replicas.join() === b.replicas.join();
}

function sameEntries(a: ReadonlyMap<string, string> | undefined, b: ReadonlyMap<string, string> | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}

/** What changed between two images (a restored snapshot against the image it replaces). */
export function diffImages(before: MetadataImage, after: MetadataImage): MetadataChanges {
  const topicsCreated = [];
  const topicsDeleted = [];
  const partitionsCreated: PartitionImage[] = [];
  const partitionsChanged: PartitionChange[] = [];
  for (const [id, t] of before.topicsById) if (!after.topicsById.has(id)) topicsDeleted.push(t);
  for (const [id, t] of after.topicsById) {
    const old = before.topicsById.get(id);
    if (old === undefined) topicsCreated.push(t);
    for (const p of t.partitions.values()) {
      const o = old?.partitions.get(p.partition);
      if (o === undefined) partitionsCreated.push(p);
      else if (!samePartition(o, p)) partitionsChanged.push({ before: o, after: p });
    }
  }
  const configsChanged = [...new Set([...before.configs.keys(), ...after.configs.keys()])]
    .filter((k) => !sameEntries(before.configs.get(k), after.configs.get(k)));
  const brokersChanged = [...new Set([...before.brokers.keys(), ...after.brokers.keys()])].filter((id) => {
    const a = before.brokers.get(id);
    const b = after.brokers.get(id);
    return a === undefined || b === undefined || a.epoch !== b.epoch || a.fenced !== b.fenced || a.inControlledShutdown !== b.inControlledShutdown;
  });
  const featuresChanged = before.features.size !== after.features.size
    || [...after.features].some(([k, v]) => before.features.get(k) !== v);
  return {
    fromOffset: before.metadataOffset,
    toOffset: after.metadataOffset,
    topicsCreated,
    topicsDeleted,
    partitionsCreated,
    partitionsChanged,
    configsChanged,
    brokersChanged,
    featuresChanged,
    producerIdsChanged: before.nextProducerId !== after.nextProducerId,
  };
}
