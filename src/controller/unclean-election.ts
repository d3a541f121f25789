// Unclean leader election (Kafka's `unclean.leader.election.enable`, per topic, default false):
// a partition left without a leader because every in-sync replica is fenced takes the first
// usable replica in assignment order as leader and sole ISR member, accepting that records only
// the old ISR had are lost. Kafka marks such a leader RECOVERING (KIP-704) until it has recovered
// its log; Brook writes the same state. Partitions of topics that do not allow it stay leaderless
// until an in-sync replica comes back (unfenceBroker).

import { MetadataRecordType as T } from '../protocol/generated/metadata/index.ts';
import { createPartitionChangeRecord } from '../protocol/generated/metadata/partition-change-record.ts';
import type { ControlContext, ControllerResult } from './control-context.ts';
import { configsOf, LeaderRecoveryState, NO_LEADER, partitionsOf } from './image.ts';
import { metadataRecord, type MetadataRecord } from './record-codec.ts';

/** Records electing unclean leaders where topics allow it; the response is how many. */
export function electUncleanLeaders(ctx: ControlContext): ControllerResult<number> {
  const image = ctx.image;
  const usable = (id: number) => {
    const b = image.brokers.get(id);
    return b !== undefined && !b.fenced && !b.inControlledShutdown;
  };
  const records: MetadataRecord[] = [];
  for (const topic of image.topicsById.values()) {
    const leaderless = partitionsOf(topic).filter((p) => p.leader === NO_LEADER && !p.isr.some(usable));
    if (leaderless.length === 0) continue;
    let allowed = false;
    try {
      allowed = ctx.schema.topicConfig(image, ctx.nodeId, configsOf(image, `topic:${topic.name}`)).get('unclean.leader.election.enable');
    } catch {
      continue; // an unreadable config never allows data loss
    }
    if (!allowed) continue;
    for (const p of leaderless) {
      const leader = p.replicas.find(usable);
      if (leader === undefined) continue;
      records.push(metadataRecord(T.PartitionChangeRecord, createPartitionChangeRecord({
        partitionId: p.partition, topicId: p.topicId, leader, isr: [leader],
        leaderRecoveryState: LeaderRecoveryState.RECOVERING,
      })));
    }
  }
  return { records, response: records.length };
}
