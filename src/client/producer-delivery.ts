// What a producer hands back per record: its metadata once acknowledged, or the error that ended
// it. A record is settled either through the promise send() returned or through a callback given
// to produce() (the form Kafka's Java client has as `send(record, callback)`); the accumulator
// keeps two plain slots per record instead of an object, so the send path allocates nothing of its
// own per record.

export interface RecordMetadata {
  topic: string;
  partition: number;
  /** -1 with acks=0 (the broker does not say). */
  offset: number;
  timestamp: number;
}

/** Called once per record: (null, metadata) when acknowledged, (error, null) when it failed. */
export type DeliveryCallback = (error: Error | null, metadata: RecordMetadata | null) => void;

/** A promise's resolve, or a DeliveryCallback when the record's reject slot is null. */
export type OnDelivered = ((metadata: RecordMetadata) => void) | DeliveryCallback;
export type OnFailed = ((error: Error) => void) | null;

export function deliverSuccess(onOk: OnDelivered, onError: OnFailed, metadata: RecordMetadata): void {
  if (onError !== null) (onOk as (m: RecordMetadata) => void)(metadata);
  else callBack(onOk as DeliveryCallback, null, metadata);
}

export function deliverFailure(onOk: OnDelivered, onError: OnFailed, error: Error): void {
  if (onError !== null) onError(error);
  else callBack(onOk as DeliveryCallback, error, null);
}

/** A callback that throws must not leave the batch half settled: its error surfaces on its own. */
function callBack(cb: DeliveryCallback, error: Error | null, metadata: RecordMetadata | null): void {
  try {
    cb(error, metadata);
  } catch (e) {
    process.nextTick(() => {
      throw e;
    });
  }
}
