// Shared setup of the group integration tests: a broker with a short initial rebalance delay,
// topics and records through kafkajs, and group state read back with its admin client.
import { Kafka, logLevel, AssignerProtocol, type Admin, type Producer } from 'kafkajs';
import { startTestBroker, type TestBroker } from '../helpers/broker.ts';

export const BROKER_PROPS = { 'group.initial.rebalance.delay.ms': '300' };

export class GroupTestCluster {
  broker!: TestBroker;
  kafka!: Kafka;
  admin!: Admin;
  producer!: Producer;
  #seq = 0;

  async start(dataDir?: string): Promise<void> {
    this.broker = await startTestBroker(BROKER_PROPS, dataDir === undefined ? {} : { dataDir });
    this.kafka = new Kafka({ brokers: [this.broker.bootstrap], clientId: 'group-tests', logLevel: logLevel.NOTHING });
    this.admin = this.kafka.admin();
    await this.admin.connect();
    this.producer = this.kafka.producer();
    await this.producer.connect();
  }

  /** Stops clients and broker; keeps the data directory when `keepData`. */
  async stop(keepData = false): Promise<void> {
    await this.producer?.disconnect().catch(() => {});
    await this.admin?.disconnect().catch(() => {});
    if (keepData) await this.broker?.stop();
    else await this.broker?.close();
  }

  unique(prefix: string): string {
    return `${prefix}-${process.pid}-${++this.#seq}`;
  }

  async createTopic(topic: string, numPartitions: number): Promise<void> {
    await this.admin.createTopics({ topics: [{ topic, numPartitions }], waitForLeaders: true });
  }

  /** Produces `perPartition` records to each partition, values `<tag>-<partition>-<i>`; returns the values. */
  async produce(topic: string, partitions: number, perPartition: number, tag: string): Promise<string[]> {
    const values: string[] = [];
    for (let p = 0; p < partitions; p++) {
      const messages = Array.from({ length: perPartition }, (_, i) => ({ partition: p, value: `${tag}-${p}-${i}` }));
      values.push(...messages.map((m) => m.value));
      await this.producer.send({ topic, messages, acks: -1 });
    }
    return values;
  }

  /** The group as DescribeGroups shows it, assignments decoded (topic → partitions per member). */
  async describe(groupId: string): Promise<{ state: string; protocol: string; members: { memberId: string; clientId: string; partitions: Record<string, number[]> }[] }> {
    const { groups } = await this.admin.describeGroups([groupId]);
    const g = groups[0];
    return {
      state: g.state,
      protocol: g.protocol,
      members: g.members.map((m) => ({
        memberId: m.memberId,
        clientId: m.clientId,
        partitions: m.memberAssignment.length > 0 ? (AssignerProtocol.MemberAssignment.decode(m.memberAssignment)?.assignment ?? {}) : {},
      })),
    };
  }

  /** Committed offset per partition (-1 when none). */
  async committed(groupId: string, topic: string): Promise<Map<number, number>> {
    const res = await this.admin.fetchOffsets({ groupId, topics: [topic] });
    return new Map(res[0].partitions.map((p) => [p.partition, Number(p.offset)]));
  }
}

/** Asserts that the members' partitions are disjoint and together exactly 0..n-1. */
export function coverage(sets: readonly (readonly number[])[], n: number): { disjoint: boolean; complete: boolean } {
  const all = sets.flat();
  const unique = new Set(all);
  return { disjoint: unique.size === all.length, complete: unique.size === n && all.every((p) => p >= 0 && p < n) };
}
