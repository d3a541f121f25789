// Metadata (key 3), versions 0–12.
// v0: an empty topic list means all topics; v1+: null means all. Topics that don't exist are
// auto-created when auto.create.topics.enable is set and the request allows it (v4+ flag; v0–3
// always allow it, since old clients wait forever otherwise). Topic ids from v10; authorized
// operations (v8+) report every operation as allowed until ACLs exist.
import { defineHandler } from '../handler.ts';
import { ErrorCode } from '../../protocol/errors.ts';
import { INTERNAL_TOPICS, validateTopicName } from '../../config/topic-name.ts';
import {
  createMetadataResponse, createMetadataResponseBroker, createMetadataResponsePartition, createMetadataResponseTopic,
  type MetadataResponseTopic,
} from '../../protocol/generated/metadata-response.ts';
import type { TopicImage } from '../../controller/image.ts';
import type { Broker } from '../broker.ts';

// READ, WRITE, CREATE, DELETE, ALTER, DESCRIBE, DESCRIBE_CONFIGS, ALTER_CONFIGS (AclOperation codes).
const TOPIC_OPERATIONS = [3, 4, 5, 6, 7, 8, 10, 11].reduce((m, op) => m | (1 << op), 0);
// CREATE, ALTER, DESCRIBE, CLUSTER_ACTION, DESCRIBE_CONFIGS, ALTER_CONFIGS, IDEMPOTENT_WRITE.
const CLUSTER_OPERATIONS = [5, 7, 8, 9, 10, 11, 12].reduce((m, op) => m | (1 << op), 0);
const NOT_REQUESTED = -2147483648;

function describeTopic(t: TopicImage, includeOps: boolean): MetadataResponseTopic {
  return createMetadataResponseTopic({
    name: t.name,
    topicId: t.id,
    isInternal: INTERNAL_TOPICS.has(t.name),
    topicAuthorizedOperations: includeOps ? TOPIC_OPERATIONS : NOT_REQUESTED,
    partitions: [...t.partitions.values()].map((p) => createMetadataResponsePartition({
      errorCode: p.leader < 0 ? ErrorCode.LEADER_NOT_AVAILABLE : 0,
      partitionIndex: p.partition,
      leaderId: p.leader,
      leaderEpoch: p.leaderEpoch,
      replicaNodes: [...p.replicas],
      isrNodes: [...p.isr],
      offlineReplicas: [],
    })),
  });
}

async function autoCreate(broker: Broker, names: string[]): Promise<Map<string, number>> {
  const errors = new Map<string, number>();
  if (names.length === 0) return errors;
  const results = await broker.controller.createTopics(
    names.map((name) => ({ name, numPartitions: -1, replicationFactor: -1, assignments: [], configs: [] })),
    { validateOnly: false },
  );
  await broker.whenApplied();
  for (const r of results) {
    if (r.errorCode !== 0 && r.errorCode !== ErrorCode.TOPIC_ALREADY_EXISTS) errors.set(r.name, r.errorCode);
  }
  return errors;
}

export default defineHandler(3, 0, 12, async (req, ctx) => {
  const broker = ctx.broker;
  const version = ctx.apiVersion;
  const all = req.topics === null || (version === 0 && req.topics.length === 0);
  const includeTopicOps = version >= 8 && req.includeTopicAuthorizedOperations;
  const topics: MetadataResponseTopic[] = [];
  if (all) {
    for (const t of broker.image.topics.values()) topics.push(describeTopic(t, includeTopicOps));
  } else {
    const allowCreate = broker.settings.autoCreateTopics && (version < 4 || req.allowAutoTopicCreation);
    const requested = req.topics!;
    const missing: string[] = [];
    for (const rt of requested) {
      const name = rt.name;
      if (name !== null && validateTopicName(name) === null && !broker.image.topics.has(name) && allowCreate && !INTERNAL_TOPICS.has(name)) {
        missing.push(name);
      }
    }
    const createErrors = await autoCreate(broker, [...new Set(missing)]);
    const image = broker.image;
    for (const rt of requested) {
      const name = rt.name;
      const byId = name === null && version >= 10 ? image.topicsById.get(rt.topicId) : undefined;
      const t = byId ?? (name !== null ? image.topics.get(name) : undefined);
      if (t !== undefined) {
        topics.push(describeTopic(t, includeTopicOps));
        continue;
      }
      let errorCode: number = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
      if (name === null) errorCode = ErrorCode.UNKNOWN_TOPIC_ID;
      else if (validateTopicName(name) !== null) errorCode = ErrorCode.INVALID_TOPIC_EXCEPTION;
      else if (createErrors.has(name)) errorCode = createErrors.get(name)!;
      topics.push(createMetadataResponseTopic({ errorCode, name, topicId: rt.topicId, topicAuthorizedOperations: includeTopicOps ? 0 : NOT_REQUESTED }));
    }
  }
  const image = broker.image;
  return createMetadataResponse({
    brokers: [...image.brokers.values()]
      .filter((b) => !b.fenced)
      .flatMap((b) => {
        const ep = b.endpoints.find((e) => e.name === broker.settings.listenerName) ?? b.endpoints[0];
        return ep === undefined ? [] : [createMetadataResponseBroker({ nodeId: b.id, host: ep.host, port: ep.port, rack: b.rack })];
      }),
    clusterId: image.clusterId,
    controllerId: broker.controllerId(),
    topics,
    clusterAuthorizedOperations: version >= 8 && version <= 10 && req.includeClusterAuthorizedOperations ? CLUSTER_OPERATIONS : NOT_REQUESTED,
  });
});
