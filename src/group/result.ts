// What a coordinator operation produces: the records to append to its __consumer_offsets
// partition, and the answers to send once those records are durable. State changes only when the
// runtime replays the records (GroupShard.replay), never inside the operation itself — except the
// volatile rebalance bookkeeping of classic groups (see docs/design/groups.md).
import type { CoordinatorRecord } from './records.ts';

export type Reply<T> = (response: T) => void;

/**
 * An answer to one request; the runtime calls `send` once the records are durable, or `fail` when
 * they could not be written (the answer goes out with that error code instead).
 */
export interface Delivery {
  readonly response: unknown;
  send(): void;
  fail(errorCode: number): void;
}

export interface Result<T> {
  records: CoordinatorRecord[];
  response: T;
  /** Answers to requests parked earlier (JoinGroup, SyncGroup) that this operation completes. */
  deliveries: Delivery[];
}

export function deliver<T>(reply: Reply<T>, response: T): Delivery {
  return {
    response,
    send: () => reply(response),
    fail: (errorCode) => reply({ ...response, errorCode }),
  };
}

export function result<T>(response: T, records: CoordinatorRecord[] = [], deliveries: Delivery[] = []): Result<T> {
  return { records, response, deliveries };
}

/** Collects the records and answers of one operation as it runs. */
export class Effects {
  readonly records: CoordinatorRecord[] = [];
  readonly deliveries: Delivery[] = [];

  reply<T>(to: Reply<T>, response: T): void {
    this.deliveries.push(deliver(to, response));
  }

  result<T>(response: T): Result<T> {
    return { records: this.records, response, deliveries: this.deliveries };
  }
}
