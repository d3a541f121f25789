// Sends controller operations from a node that is not the active controller to the one that is,
// as the same Kafka RPCs a client would send (CreateTopics, DeleteTopics, CreatePartitions,
// AlterConfigs, IncrementalAlterConfigs, AllocateProducerIds), on the active controller's
// controller listener. Kafka forwards with EnvelopeRequest (KIP-590); Brook sends the request
// itself, since its controller listener is only for its own nodes.
//
// An answer of NOT_CONTROLLER for every item means the target was not (or no longer) active and
// did nothing: it is retried against whoever leads next, until the deadline. After a successful
// answer the node waits until its own image has the committed result (up to the leader's high
// watermark, asked with DescribeQuorum), so a client reading this node's Metadata next sees it.
// Internal topic creation (__consumer_offsets, __transaction_state) is marked by the client id.

import { ErrorCode, KafkaError } from '../protocol/errors.ts';
import { NULL_UUID } from '../protocol/reader.ts';
import type { ApiTypes } from '../protocol/generated/api-index.ts';
import type { ControllerForwarder } from '../controller/controller.ts';
import type { AlterConfigsResource, AlterConfigsResult } from '../controller/config-control.ts';
import type { CreatePartitionsResult, CreatePartitionsTopic } from '../controller/partition-control.ts';
import type { ProducerIdBlock } from '../controller/producer-id-control.ts';
import type { CreatableTopic, CreateTopicResult, CreateTopicsOptions, DeleteTopicResult } from '../controller/topic-control.ts';
import type { PeerChannels } from '../raft/driver/peer-channels.ts';
import { METADATA_TOPIC } from '../raft/driver/wire.ts';

export const FORWARD_CHANNEL = 'forward';
export const FORWARD_INTERNAL_CHANNEL = 'forward-internal';
/** Client id of forwarded requests that create a broker's own internal topics. */
export const INTERNAL_FORWARD_CLIENT_ID = 'brook-forward-internal';

export interface ControllerForwarderOptions {
  peers: PeerChannels;
  selfId: number;
  activeControllerId: () => number;
  /** Resolves once this node has applied entries below `entryEnd`. */
  waitApplied: (entryEnd: number, timeoutMs: number) => Promise<boolean>;
  /** How long one operation may take, retries included. */
  timeoutMs: number;
  requestTimeoutMs: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

export class RpcControllerForwarder implements ControllerForwarder {
  readonly #o: ControllerForwarderOptions;

  constructor(opts: ControllerForwarderOptions) {
    this.#o = opts;
  }

  async createTopics(topics: CreatableTopic[], opts: CreateTopicsOptions): Promise<CreateTopicResult[]> {
    const r = await this.#call(19, 7, {
      topics: topics.map((t) => ({
        name: t.name, numPartitions: t.numPartitions, replicationFactor: t.replicationFactor,
        assignments: t.assignments.map((a) => ({ partitionIndex: a.partitionIndex, brokerIds: a.brokerIds.slice() })),
        configs: t.configs.map((c) => ({ name: c.name, value: c.value })),
      })),
      timeoutMs: this.#o.timeoutMs, validateOnly: opts.validateOnly,
    }, (res) => res.topics.map((t) => t.errorCode), opts.internal === true);
    return r.topics.map((t) => ({
      name: t.name, topicId: t.topicId, errorCode: t.errorCode, errorMessage: t.errorMessage,
      numPartitions: t.numPartitions, replicationFactor: t.replicationFactor,
      configs: (t.configs ?? []).map((c) => ({ ...c })),
    }));
  }

  async deleteTopics(byName: string[], byId: string[]): Promise<DeleteTopicResult[]> {
    const r = await this.#call(20, 6, {
      topics: [...byName.map((name) => ({ name, topicId: NULL_UUID })), ...byId.map((topicId) => ({ name: null, topicId }))],
      topicNames: [], timeoutMs: this.#o.timeoutMs,
    }, (res) => res.responses.map((t) => t.errorCode));
    return r.responses.map((t) => ({ name: t.name, topicId: t.topicId, errorCode: t.errorCode, errorMessage: t.errorMessage }));
  }

  async createPartitions(topics: CreatePartitionsTopic[], validateOnly: boolean): Promise<CreatePartitionsResult[]> {
    const r = await this.#call(37, 3, {
      topics: topics.map((t) => ({
        name: t.name, count: t.count,
        assignments: t.assignments === null ? null : t.assignments.map((brokerIds) => ({ brokerIds: brokerIds.slice() })),
      })),
      timeoutMs: this.#o.timeoutMs, validateOnly,
    }, (res) => res.results.map((t) => t.errorCode));
    return r.results.map((t) => ({ name: t.name, errorCode: t.errorCode, errorMessage: t.errorMessage }));
  }

  async alterConfigs(resources: AlterConfigsResource[], validateOnly: boolean, incremental: boolean): Promise<AlterConfigsResult[]> {
    const codes = (res: { responses: { errorCode: number }[] }) => res.responses.map((x) => x.errorCode);
    const r = incremental
      ? await this.#call(44, 1, {
        resources: resources.map((x) => ({
          resourceType: x.resourceType, resourceName: x.resourceName,
          configs: x.ops.map((o) => ({ name: o.name, configOperation: o.op, value: o.value })),
        })),
        validateOnly,
      }, codes)
      : await this.#call(33, 2, {
        resources: resources.map((x) => ({
          resourceType: x.resourceType, resourceName: x.resourceName,
          configs: x.ops.map((o) => ({ name: o.name, value: o.value })),
        })),
        validateOnly,
      }, codes);
    return r.responses.map((x) => ({
      resourceType: x.resourceType, resourceName: x.resourceName, errorCode: x.errorCode, errorMessage: x.errorMessage,
    }));
  }

  async allocateProducerIds(brokerId: number, _count: number, brokerEpoch: bigint | null): Promise<ProducerIdBlock> {
    const r = await this.#call(67, 0, { brokerId, brokerEpoch: brokerEpoch ?? -1n }, (res) => [res.errorCode]);
    if (r.errorCode !== ErrorCode.NONE) throw new KafkaError(r.errorCode, 'The active controller refused to allocate producer ids.');
    return { brokerId, firstProducerId: r.producerIdStart, size: r.producerIdLen };
  }

  async #call<K extends keyof ApiTypes>(
    apiKey: K, version: number, body: ApiTypes[K]['request'],
    codes: (res: ApiTypes[K]['response']) => number[], internal = false,
  ): Promise<ApiTypes[K]['response']> {
    const deadline = performance.now() + this.#o.timeoutMs;
    let last = 'no active controller';
    while (performance.now() < deadline) {
      const target = this.#o.activeControllerId();
      if (target < 0 || target === this.#o.selfId) {
        // No leader yet, or this node leads and is still catching up: wait for it to settle.
        await sleep(50);
        continue;
      }
      const channel = internal ? FORWARD_INTERNAL_CHANNEL : FORWARD_CHANNEL;
      let res: ApiTypes[K]['response'];
      try {
        res = await this.#o.peers.send(target, channel, apiKey, version, body, this.#o.requestTimeoutMs);
      } catch (e) {
        last = `node ${target}: ${(e as Error)?.message ?? e}`;
        await sleep(100);
        continue;
      }
      const c = codes(res);
      if (c.length > 0 && c.every((x) => x === ErrorCode.NOT_CONTROLLER)) {
        last = `node ${target} is not the active controller`;
        await sleep(100);
        continue;
      }
      await this.#catchUp(target, deadline);
      return res;
    }
    throw new KafkaError(ErrorCode.NOT_CONTROLLER, `The request could not reach the active controller (${last}).`);
  }

  /** Waits until this node's image holds what the active controller had committed. */
  async #catchUp(target: number, deadline: number): Promise<void> {
    try {
      const q = await this.#o.peers.send(target, FORWARD_CHANNEL, 55, 0, {
        topics: [{ topicName: METADATA_TOPIC, partitions: [{ partitionIndex: 0 }] }],
      }, this.#o.requestTimeoutMs);
      const p = q.topics[0]?.partitions[0];
      if (q.errorCode !== ErrorCode.NONE || p === undefined || p.errorCode !== ErrorCode.NONE) return;
      await this.#o.waitApplied(Number(p.highWatermark), Math.max(0, deadline - performance.now()));
    } catch {
      // Best effort: the answer stands; this node's image follows shortly.
    }
  }
}
