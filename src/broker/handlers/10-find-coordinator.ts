// FindCoordinator (key 10), versions 0–6. v0–v3 ask for one key, v4+ for a batch (KIP-699).
// Key type 0 (group): the leader of the group's __consumer_offsets partition, creating the topic
// on first use. Key type 1 (transaction): the leader of the id's __transaction_state partition,
// creating the topic on first use. Other key types (2, share groups, KIP-932): INVALID_REQUEST.
import { defineHandler } from '../handler.ts';
import { ErrorCode } from '../../protocol/errors.ts';
import type { CoordinatorAddress } from '../../group/coordinator.ts';
import type { Broker } from '../broker.ts';

const GROUP = 0;
const TRANSACTION = 1;

function find(broker: Broker, key: string, keyType: number): Promise<CoordinatorAddress> | CoordinatorAddress {
  if (keyType === GROUP) return broker.groups.findGroupCoordinator(key);
  if (keyType === TRANSACTION) return broker.txn.findCoordinator(key);
  return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `Unsupported key type ${keyType}`, nodeId: -1, host: '', port: -1 };
}

export default defineHandler(10, 0, 6, async (req, ctx) => {
  if (ctx.apiVersion >= 4) {
    const coordinators = await Promise.all(req.coordinatorKeys.map(async (key) => ({ key, ...(await find(ctx.broker, key, req.keyType)) })));
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, errorMessage: null, nodeId: -1, host: '', port: -1, coordinators };
  }
  const a = await find(ctx.broker, req.key, req.keyType);
  return { throttleTimeMs: 0, ...a, coordinators: [] };
});
