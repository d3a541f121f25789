// The handler registry: one import per API key. ApiVersions advertises exactly what is listed here.
import type { ApiHandler } from '../handler.ts';
import produce from './00-produce.ts';
import fetch from './01-fetch.ts';
import listOffsets from './02-list-offsets.ts';
import metadata from './03-metadata.ts';
import apiVersions from './18-api-versions.ts';
// group coordinator handlers (issue 5)
import offsetCommit from './08-offset-commit.ts';
import offsetFetch from './09-offset-fetch.ts';
import findCoordinator from './10-find-coordinator.ts';
import joinGroup from './11-join-group.ts';
import heartbeat from './12-heartbeat.ts';
import leaveGroup from './13-leave-group.ts';
import syncGroup from './14-sync-group.ts';
import describeGroups from './15-describe-groups.ts';
import listGroups from './16-list-groups.ts';
import deleteGroups from './42-delete-groups.ts';
import offsetDelete from './47-offset-delete.ts';
import consumerGroupHeartbeat from './68-consumer-group-heartbeat.ts';
import consumerGroupDescribe from './69-consumer-group-describe.ts';
// transaction handlers (issue 6)
import initProducerId from './22-init-producer-id.ts';
import addPartitionsToTxn from './24-add-partitions-to-txn.ts';
import addOffsetsToTxn from './25-add-offsets-to-txn.ts';
import endTxn from './26-end-txn.ts';
import writeTxnMarkers from './27-write-txn-markers.ts'; // inter-broker (transactions across brokers)
import txnOffsetCommit from './28-txn-offset-commit.ts';
import describeProducers from './61-describe-producers.ts';
import describeTransactions from './65-describe-transactions.ts';
import listTransactions from './66-list-transactions.ts';
// admin handlers (registered below)
import createTopics from './19-create-topics.ts';
import deleteTopics from './20-delete-topics.ts';
import deleteRecords from './21-delete-records.ts';
import describeConfigs from './32-describe-configs.ts';
import alterConfigs from './33-alter-configs.ts';
import describeLogDirs from './35-describe-log-dirs.ts';
import createPartitions from './37-create-partitions.ts';
import incrementalAlterConfigs from './44-incremental-alter-configs.ts';
import describeCluster from './60-describe-cluster.ts';
import describeTopicPartitions from './75-describe-topic-partitions.ts';
import describeQuorum from './55-describe-quorum.ts';

const ALL: ApiHandler[] = [
  describeQuorum,
  produce,
  fetch,
  listOffsets,
  metadata,
  apiVersions,
  // group coordinator handlers (issue 5)
  offsetCommit,
  offsetFetch,
  findCoordinator,
  joinGroup,
  heartbeat,
  leaveGroup,
  syncGroup,
  describeGroups,
  listGroups,
  deleteGroups,
  offsetDelete,
  consumerGroupHeartbeat,
  consumerGroupDescribe,
  // transaction handlers (issue 6)
  initProducerId,
  addPartitionsToTxn,
  addOffsetsToTxn,
  endTxn,
  writeTxnMarkers,
  txnOffsetCommit,
  describeProducers,
  describeTransactions,
  listTransactions,
  // admin handlers
  createTopics,
  deleteTopics,
  deleteRecords,
  describeConfigs,
  alterConfigs,
  describeLogDirs,
  createPartitions,
  incrementalAlterConfigs,
  describeCluster,
  describeTopicPartitions,
];

export const HANDLERS: ReadonlyMap<number, ApiHandler> = new Map(ALL.map((h) => [h.apiKey, h]));
