// Calls to a group coordinator with Kafka's recovery rules: NOT_COORDINATOR and
// COORDINATOR_NOT_AVAILABLE (the group moved or its partition has no leader) and network errors
// drop the cached coordinator and look it up again; COORDINATOR_LOAD_IN_PROGRESS (the coordinator
// is still reading the offsets topic) is retried as is. Responses carrying such a code must be
// thrown as KafkaErrors by `fn` for this to apply.
import { ErrorCode } from '../../protocol/errors.ts';
import { CoordinatorType, type Client } from '../client.ts';
import { KafkaError, NetworkError } from '../errors.ts';
import type { NodeConnection } from '../node-connection.ts';

const MOVED: ReadonlySet<number> = new Set([ErrorCode.NOT_COORDINATOR, ErrorCode.COORDINATOR_NOT_AVAILABLE]);

export function isCoordinatorMoved(e: unknown): boolean {
  return e instanceof NetworkError || (e instanceof KafkaError && (MOVED.has(e.code) || e.code === ErrorCode.REQUEST_TIMED_OUT));
}

export function withGroupCoordinator<T>(client: Client, groupId: string, fn: (conn: NodeConnection) => Promise<T>): Promise<T> {
  return client.retry(
    async () => fn(await client.coordinator(CoordinatorType.Group, groupId)),
    (e) => {
      if (isCoordinatorMoved(e)) client.forgetCoordinator(CoordinatorType.Group, groupId);
    },
  );
}
