// MetadataDelta: replays metadata records on top of an image and produces the next image plus a
// summary of what changed, as Kafka's MetadataDelta/TopicsDelta do for brokers (which create and
// delete local logs and change leadership from the delta, not from a diff of whole images).
//
// Replay is the only way metadata state changes. It is deterministic: the same records from the
// same image give an equal image. A record that contradicts the image (a partition of an unknown
// topic, a fence with a stale broker epoch, a producer-id block that goes backwards) means the log
// is not one this controller wrote, and throws MetadataReplayError.
//
// Records Brook does not model yet (ACLs, quotas, SCRAM credentials, delegation tokens, ZK
// migration state, controller registrations, transaction markers) only advance the offset.

import { MetadataRecordType as T } from '../protocol/generated/metadata/index.ts';
import type { MetadataRecord } from './record-codec.ts';
import type { PartitionRecord } from '../protocol/generated/metadata/partition-record.ts';
import type { PartitionChangeRecord } from '../protocol/generated/metadata/partition-change-record.ts';
import type { RegisterBrokerRecord } from '../protocol/generated/metadata/register-broker-record.ts';
import {
  configKey,
  type BrokerImage,
  type ConfigResourceKey,
  type MetadataImage,
  type PartitionImage,
  type TopicImage,
} from './image.ts';

export class MetadataReplayError extends Error {
  override name = 'MetadataReplayError';
}

export interface PartitionChange {
  readonly before: PartitionImage;
  readonly after: PartitionImage;
}

/** What one delta changed, for brokers to act on. Apply deletions before creations (a name may be reused). */
export interface MetadataChanges {
  /** Offset of the image the delta started from, and of the new one. */
  readonly fromOffset: number;
  readonly toOffset: number;
  /** Topics present now and not before (with all their partitions). */
  readonly topicsCreated: readonly TopicImage[];
  /** Topics present before and not now, as they were before. */
  readonly topicsDeleted: readonly TopicImage[];
  /** Partitions present now and not before, including those of created topics. */
  readonly partitionsCreated: readonly PartitionImage[];
  /** Partitions present before and now whose registration changed (leader, ISR, replicas, ...). */
  readonly partitionsChanged: readonly PartitionChange[];
  readonly configsChanged: readonly ConfigResourceKey[];
  readonly brokersChanged: readonly number[];
  readonly featuresChanged: boolean;
  readonly producerIdsChanged: boolean;
}

function frozen<T>(a: readonly T[]): readonly T[] {
  return Object.freeze(a.slice());
}

function partitionFromRecord(r: PartitionRecord): PartitionImage {
  return Object.freeze({
    topicId: r.topicId,
    partition: r.partitionId,
    replicas: frozen(r.replicas),
    isr: frozen(r.isr),
    removingReplicas: frozen(r.removingReplicas),
    addingReplicas: frozen(r.addingReplicas),
    leader: r.leader,
    leaderEpoch: r.leaderEpoch,
    partitionEpoch: r.partitionEpoch,
    leaderRecoveryState: r.leaderRecoveryState,
    elr: frozen(r.eligibleLeaderReplicas ?? []),
    lastKnownElr: frozen(r.lastKnownElr ?? []),
    directories: frozen(r.directories),
  });
}

/** Kafka's PartitionRegistration.merge: null / -2 / -1 mean "unchanged"; a leader field bumps the leader epoch. */
function mergePartitionChange(p: PartitionImage, c: PartitionChangeRecord): PartitionImage {
  const leaderChanged = c.leader !== -2;
  return Object.freeze({
    topicId: p.topicId,
    partition: p.partition,
    replicas: c.replicas === null ? p.replicas : frozen(c.replicas),
    isr: c.isr === null ? p.isr : frozen(c.isr),
    removingReplicas: c.removingReplicas === null ? p.removingReplicas : frozen(c.removingReplicas),
    addingReplicas: c.addingReplicas === null ? p.addingReplicas : frozen(c.addingReplicas),
    leader: leaderChanged ? c.leader : p.leader,
    leaderEpoch: leaderChanged ? p.leaderEpoch + 1 : p.leaderEpoch,
    partitionEpoch: p.partitionEpoch + 1,
    leaderRecoveryState: c.leaderRecoveryState === -1 ? p.leaderRecoveryState : c.leaderRecoveryState,
    elr: c.eligibleLeaderReplicas === null ? p.elr : frozen(c.eligibleLeaderReplicas),
    lastKnownElr: c.lastKnownElr === null ? p.lastKnownElr : frozen(c.lastKnownElr),
    directories: c.directories === null ? p.directories : frozen(c.directories),
  });
}

function brokerFromRecord(r: RegisterBrokerRecord): BrokerImage {
  return Object.freeze({
    id: r.brokerId,
    incarnationId: r.incarnationId,
    epoch: r.brokerEpoch,
    endpoints: frozen(r.endPoints.map((e) => Object.freeze({ ...e }))),
    rack: r.rack === '' ? null : r.rack,
    fenced: r.fenced,
    inControlledShutdown: r.inControlledShutdown,
    features: frozen(r.features.map((f) => Object.freeze({ ...f }))),
    logDirs: frozen(r.logDirs),
  });
}

export class MetadataDelta {
  readonly base: MetadataImage;
  #offset: number;
  #applied = false;

  // Working copies, made on first write.
  #topicsById: Map<string, TopicImage> | null = null;
  #topicsByName: Map<string, TopicImage> | null = null;
  /** Topics whose partitions map was copied by this delta and may be written in place. */
  readonly #ownedPartitions = new Map<string, Map<number, PartitionImage>>();
  #brokers: Map<number, BrokerImage> | null = null;
  #configs: Map<ConfigResourceKey, ReadonlyMap<string, string>> | null = null;
  readonly #ownedConfigs = new Set<ConfigResourceKey>();
  #features: Map<string, number> | null = null;
  #nextProducerId: bigint;

  readonly #configsChanged = new Set<ConfigResourceKey>();
  readonly #brokersChanged = new Set<number>();
  #featuresChanged = false;
  #producerIdsChanged = false;

  constructor(base: MetadataImage) {
    this.base = base;
    this.#offset = base.metadataOffset;
    this.#nextProducerId = base.nextProducerId;
  }

  get offset(): number {
    return this.#offset;
  }

  /** Applies one record; `offset` defaults to the next one. */
  replay(record: MetadataRecord, offset: number = this.#offset + 1): void {
    if (this.#applied) throw new Error('MetadataDelta already applied');
    if (offset <= this.#offset) {
      throw new MetadataReplayError(`record at offset ${offset} does not follow offset ${this.#offset}`);
    }
    switch (record.type) {
      case T.TopicRecord: {
        const { name, topicId } = record.data;
        if (this.topicById(topicId) !== undefined) throw new MetadataReplayError(`topic id ${topicId} already exists`);
        if (this.topicByName(name) !== undefined) throw new MetadataReplayError(`topic ${name} already exists`);
        this.putTopic(Object.freeze({ name, id: topicId, partitions: this.ownPartitions(topicId, null) }));
        break;
      }
      case T.PartitionRecord: {
        const topic = this.requireTopic(record.data.topicId, 'PartitionRecord');
        this.ownPartitions(topic.id, topic).set(record.data.partitionId, partitionFromRecord(record.data));
        break;
      }
      case T.PartitionChangeRecord: {
        const topic = this.requireTopic(record.data.topicId, 'PartitionChangeRecord');
        const current = topic.partitions.get(record.data.partitionId);
        if (current === undefined) {
          throw new MetadataReplayError(`PartitionChangeRecord for unknown partition ${topic.name}-${record.data.partitionId}`);
        }
        this.ownPartitions(topic.id, topic).set(current.partition, mergePartitionChange(current, record.data));
        break;
      }
      case T.RemoveTopicRecord: {
        const topic = this.requireTopic(record.data.topicId, 'RemoveTopicRecord');
        this.removeTopic(topic);
        // A topic's config overrides go with it (Kafka's ConfigurationsDelta on RemoveTopicRecord).
        this.deleteConfigs(`topic:${topic.name}`);
        break;
      }
      case T.ConfigRecord: {
        const key = configKey(record.data.resourceType, record.data.resourceName);
        if (key !== null) this.setConfig(key, record.data.name, record.data.value);
        break;
      }
      case T.RegisterBrokerRecord:
        this.putBroker(brokerFromRecord(record.data));
        break;
      case T.UnregisterBrokerRecord: {
        const b = this.brokersView().get(record.data.brokerId);
        if (b !== undefined && b.epoch === record.data.brokerEpoch) {
          this.ownBrokers().delete(b.id);
          this.#brokersChanged.add(b.id);
        }
        break;
      }
      case T.FenceBrokerRecord:
        this.changeBroker(record.data.id, record.data.epoch, { fenced: true });
        break;
      case T.UnfenceBrokerRecord:
        this.changeBroker(record.data.id, record.data.epoch, { fenced: false });
        break;
      case T.BrokerRegistrationChangeRecord: {
        const d = record.data;
        const change: { fenced?: boolean; inControlledShutdown?: boolean } = {};
        if (d.fenced === 1) change.fenced = true;
        else if (d.fenced === -1) change.fenced = false;
        if (d.inControlledShutdown === 1) change.inControlledShutdown = true;
        this.changeBroker(d.brokerId, d.brokerEpoch, change);
        break;
      }
      case T.ProducerIdsRecord: {
        const next = record.data.nextProducerId;
        if (next <= this.#nextProducerId) {
          throw new MetadataReplayError(`producer id block goes back from ${this.#nextProducerId} to ${next}`);
        }
        this.#nextProducerId = next;
        this.#producerIdsChanged = true;
        break;
      }
      case T.FeatureLevelRecord: {
        const features = (this.#features ??= new Map(this.base.features));
        // Level 0 removes the feature (KIP-778).
        if (record.data.featureLevel === 0) features.delete(record.data.name);
        else features.set(record.data.name, record.data.featureLevel);
        this.#featuresChanged = true;
        break;
      }
      default:
        // NoOpRecord (KIP-835) and the record types listed in the header.
        break;
    }
    this.#offset = offset;
  }

  /** Produces the next image and the change summary. The delta may not be used afterwards. */
  apply(): { image: MetadataImage; changes: MetadataChanges } {
    if (this.#applied) throw new Error('MetadataDelta already applied');
    this.#applied = true;
    const base = this.base;
    const image: MetadataImage = Object.freeze({
      clusterId: base.clusterId,
      metadataOffset: this.#offset,
      topics: this.#topicsByName ?? base.topics,
      topicsById: this.#topicsById ?? base.topicsById,
      brokers: this.#brokers ?? base.brokers,
      configs: this.#configs ?? base.configs,
      features: this.#features ?? base.features,
      nextProducerId: this.#nextProducerId,
    });
    return { image, changes: this.summarize(image) };
  }

  private summarize(image: MetadataImage): MetadataChanges {
    const base = this.base;
    const topicsCreated: TopicImage[] = [];
    const topicsDeleted: TopicImage[] = [];
    const partitionsCreated: PartitionImage[] = [];
    const partitionsChanged: PartitionChange[] = [];
    if (this.#topicsById !== null) {
      for (const [id, before] of base.topicsById) if (!image.topicsById.has(id)) topicsDeleted.push(before);
      for (const [id, after] of image.topicsById) {
        const before = base.topicsById.get(id);
        if (before === undefined) topicsCreated.push(after);
        if (before === after) continue;
        for (const p of after.partitions.values()) {
          const old = before?.partitions.get(p.partition);
          if (old === undefined) partitionsCreated.push(p);
          else if (old !== p) partitionsChanged.push({ before: old, after: p });
        }
      }
    }
    return {
      fromOffset: base.metadataOffset,
      toOffset: image.metadataOffset,
      topicsCreated,
      topicsDeleted,
      partitionsCreated,
      partitionsChanged,
      configsChanged: [...this.#configsChanged],
      brokersChanged: [...this.#brokersChanged],
      featuresChanged: this.#featuresChanged,
      producerIdsChanged: this.#producerIdsChanged,
    };
  }

  // --- topics ---

  private topicById(id: string): TopicImage | undefined {
    return (this.#topicsById ?? this.base.topicsById).get(id);
  }

  private topicByName(name: string): TopicImage | undefined {
    return (this.#topicsByName ?? this.base.topics).get(name);
  }

  private requireTopic(id: string, what: string): TopicImage {
    const t = this.topicById(id);
    if (t === undefined) throw new MetadataReplayError(`${what} for unknown topic id ${id}`);
    return t;
  }

  private ownTopics(): void {
    this.#topicsById ??= new Map(this.base.topicsById);
    this.#topicsByName ??= new Map(this.base.topics);
  }

  private putTopic(t: TopicImage): void {
    this.ownTopics();
    this.#topicsById!.set(t.id, t);
    this.#topicsByName!.set(t.name, t);
  }

  private removeTopic(t: TopicImage): void {
    this.ownTopics();
    this.#topicsById!.delete(t.id);
    this.#topicsByName!.delete(t.name);
    this.#ownedPartitions.delete(t.id);
  }

  /** The topic's partition map, copied once per delta so that the base image is never written. */
  private ownPartitions(topicId: string, topic: TopicImage | null): Map<number, PartitionImage> {
    let owned = this.#ownedPartitions.get(topicId);
    if (owned === undefined) {
      owned = new Map(topic?.partitions ?? []);
      this.#ownedPartitions.set(topicId, owned);
      if (topic !== null) this.putTopic(Object.freeze({ name: topic.name, id: topic.id, partitions: owned }));
    }
    return owned;
  }

  // --- configs ---

  private deleteConfigs(key: ConfigResourceKey): void {
    if (!(this.#configs ?? this.base.configs).has(key)) return;
    (this.#configs ??= new Map(this.base.configs)).delete(key);
    this.#ownedConfigs.delete(key);
    this.#configsChanged.add(key);
  }

  private setConfig(key: ConfigResourceKey, name: string, value: string | null): void {
    const configs = (this.#configs ??= new Map(this.base.configs));
    let entries = configs.get(key) as Map<string, string> | undefined;
    if (!this.#ownedConfigs.has(key)) {
      entries = new Map(entries ?? []);
      this.#ownedConfigs.add(key);
      configs.set(key, entries);
    }
    if (value === null) entries!.delete(name);
    else entries!.set(name, value);
    if (entries!.size === 0) {
      configs.delete(key);
      this.#ownedConfigs.delete(key);
    }
    this.#configsChanged.add(key);
  }

  // --- brokers ---

  private brokersView(): ReadonlyMap<number, BrokerImage> {
    return this.#brokers ?? this.base.brokers;
  }

  private ownBrokers(): Map<number, BrokerImage> {
    return (this.#brokers ??= new Map(this.base.brokers));
  }

  private putBroker(b: BrokerImage): void {
    this.ownBrokers().set(b.id, b);
    this.#brokersChanged.add(b.id);
  }

  private changeBroker(id: number, epoch: bigint, change: { fenced?: boolean; inControlledShutdown?: boolean }): void {
    const b = this.brokersView().get(id);
    if (b === undefined) throw new MetadataReplayError(`registration change for unknown broker ${id}`);
    if (b.epoch !== epoch) {
      throw new MetadataReplayError(`registration change for broker ${id} with epoch ${epoch}, registered with ${b.epoch}`);
    }
    this.putBroker(Object.freeze({
      ...b,
      fenced: change.fenced ?? b.fenced,
      inControlledShutdown: change.inControlledShutdown ?? b.inControlledShutdown,
    }));
  }
}

/** Replays records (with consecutive offsets after the image's) and returns the next image. */
export function replayRecords(
  image: MetadataImage,
  records: readonly MetadataRecord[],
): { image: MetadataImage; changes: MetadataChanges } {
  const delta = new MetadataDelta(image);
  for (const r of records) delta.replay(r);
  return delta.apply();
}
