// ConsumerGroupDescribe (KIP-848): epochs, the assignor, and per member its current and target
// assignment with topic names. Classic groups and unknown groups: GROUP_ID_NOT_FOUND.
import { ErrorCode } from '../protocol/errors.ts';
import type { DescribedGroup, TopicPartitions } from '../protocol/generated/consumer-group-describe-response.ts';
import type { Assignment } from './consumer-group.ts';
import { groupAssignor } from './consumer-heartbeat.ts';
import { AUTHORIZED_OPERATIONS_OMITTED, GROUP_AUTHORIZED_OPERATIONS } from './group-admin.ts';
import type { GroupShard } from './shard.ts';

function described(shard: GroupShard, a: Assignment): { topicPartitions: TopicPartitions[] } {
  return {
    topicPartitions: [...a].map(([topicId, partitions]) => ({ topicId, topicName: shard.env.topics.byId(topicId)?.name ?? '', partitions: [...partitions] })),
  };
}

export function describeConsumerGroup(shard: GroupShard, groupId: string, includeAuthorizedOperations: boolean): DescribedGroup {
  const g = shard.groups.get(groupId);
  const authorizedOperations = includeAuthorizedOperations ? GROUP_AUTHORIZED_OPERATIONS : AUTHORIZED_OPERATIONS_OMITTED;
  if (g?.type !== 'consumer') {
    return {
      errorCode: ErrorCode.GROUP_ID_NOT_FOUND,
      errorMessage: g === undefined ? `Group ${groupId} not found.` : `Group ${groupId} is not a consumer group.`,
      groupId, groupState: '', groupEpoch: -1, assignmentEpoch: -1, assignorName: '', members: [], authorizedOperations,
    };
  }
  return {
    errorCode: ErrorCode.NONE, errorMessage: null, groupId, groupState: g.state, groupEpoch: g.groupEpoch,
    assignmentEpoch: g.assignmentEpoch, assignorName: groupAssignor(shard, g.members.values()), authorizedOperations,
    members: [...g.members.values()].map((m) => ({
      memberId: m.memberId, instanceId: m.instanceId, rackId: m.rackId, memberEpoch: m.memberEpoch,
      clientId: m.clientId, clientHost: m.clientHost, subscribedTopicNames: [...m.subscribedTopicNames],
      subscribedTopicRegex: m.subscribedTopicRegex,
      assignment: described(shard, m.assigned),
      targetAssignment: described(shard, g.targetAssignment.get(m.memberId) ?? new Map()),
    })),
  };
}
