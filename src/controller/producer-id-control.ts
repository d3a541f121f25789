// Producer id blocks (KIP-730, Kafka's ProducerIdControlManager). Brokers ask the controller for a
// block of ids; the controller writes a ProducerIdsRecord whose nextProducerId is the end of the
// block, and answers only once the record is committed. Replay moves image.nextProducerId forward,
// so after a restart the next block starts past every id handed out before: ids never repeat.

import { ErrorCode, KafkaError } from '../protocol/errors.ts';
import { MetadataRecordType as T } from '../protocol/generated/metadata/index.ts';
import type { ControlContext, ControllerResult } from './control-context.ts';
import { metadataRecord } from './record-codec.ts';

/** Kafka's block size (ProducerIdsBlock.PRODUCER_ID_BLOCK_SIZE). */
export const PRODUCER_ID_BLOCK_SIZE = 1000;
const MAX_BLOCK = 1_000_000;
const LONG_MAX = (1n << 63n) - 1n;

export interface ProducerIdBlock {
  brokerId: number;
  firstProducerId: bigint;
  size: number;
}

/**
 * Throws KafkaError: BROKER_ID_NOT_REGISTERED (102) for an unknown broker, STALE_BROKER_EPOCH (77)
 * for a broker epoch that is not the current registration's, INVALID_REQUEST (42) for a bad size,
 * UNKNOWN_SERVER_ERROR (-1) when the id space is exhausted.
 */
export function allocateProducerIds(
  ctx: ControlContext,
  brokerId: number,
  brokerEpoch: bigint | null,
  size: number = PRODUCER_ID_BLOCK_SIZE,
): ControllerResult<ProducerIdBlock> {
  const broker = ctx.image.brokers.get(brokerId);
  if (broker === undefined) throw new KafkaError(ErrorCode.BROKER_ID_NOT_REGISTERED, `Broker ${brokerId} is not registered.`);
  if (brokerEpoch !== null && brokerEpoch !== broker.epoch) {
    throw new KafkaError(ErrorCode.STALE_BROKER_EPOCH, `Broker ${brokerId} epoch ${brokerEpoch} is not the current ${broker.epoch}.`);
  }
  if (!Number.isInteger(size) || size < 1 || size > MAX_BLOCK) {
    throw new KafkaError(ErrorCode.INVALID_REQUEST, `Producer id block size must be between 1 and ${MAX_BLOCK}.`);
  }
  const first = ctx.image.nextProducerId;
  if (first > LONG_MAX - BigInt(size)) throw new KafkaError(ErrorCode.UNKNOWN_SERVER_ERROR, 'Exhausted all producer ids.');
  return {
    records: [
      metadataRecord(T.ProducerIdsRecord, { brokerId, brokerEpoch: broker.epoch, nextProducerId: first + BigInt(size) }),
    ],
    response: { brokerId, firstProducerId: first, size },
  };
}
