// The errors Brook's client throws. Broker answers keep Kafka's numeric code (KafkaError, from
// the protocol layer) with the topic/partition/group they concern in the message; failures that
// never reached a broker answer have their own classes so callers (the CLI) can name them.
import { ErrorCode, KafkaError, errorName } from '../protocol/errors.ts';
import { API_CODECS } from '../protocol/generated/api-index.ts';

export { KafkaError };

/** No broker in the bootstrap list (or no node the request needs) could be reached. */
export class BrokerUnreachableError extends Error {
  override name = 'BrokerUnreachableError';
  readonly addresses: readonly string[];

  constructor(addresses: readonly string[], detail: string, options?: { cause?: unknown }) {
    super(`broker unreachable at ${addresses.join(', ')}${detail ? `: ${detail}` : ''}`, options);
    this.addresses = addresses;
  }
}

/** The connection to a broker failed or was closed while a request was outstanding. Retriable. */
export class NetworkError extends Error {
  override name = 'NetworkError';
  readonly address: string;

  constructor(address: string, message: string, options?: { cause?: unknown }) {
    super(`${address}: ${message}`, options);
    this.address = address;
  }
}

/** The broker did not answer within the request timeout; the connection is closed. Retriable. */
export class RequestTimeoutError extends KafkaError {
  override name = 'RequestTimeoutError';

  constructor(address: string, apiKey: number, timeoutMs: number) {
    super(ErrorCode.REQUEST_TIMED_OUT, `${address} did not answer ${apiName(apiKey)} within ${timeoutMs} ms`);
  }
}

/** The broker implements no version of an API this client can use (or not the API at all). */
export class UnsupportedApiError extends KafkaError {
  override name = 'UnsupportedApiError';
  readonly apiKey: number;

  constructor(address: string, apiKey: number) {
    super(ErrorCode.UNSUPPORTED_VERSION, `the broker at ${address} does not support ${apiName(apiKey)} (API key ${apiKey}) in a version this client implements`);
    this.apiKey = apiKey;
  }
}

/** The producer's buffer stayed full for longer than max.block.ms. */
export class BufferFullError extends Error {
  override name = 'BufferFullError';
}

/** The client, producer or consumer was closed while the operation waited. */
export class ClientClosedError extends Error {
  override name = 'ClientClosedError';

  constructor(what = 'client') {
    super(`the ${what} is closed`);
  }
}

export function apiName(apiKey: number): string {
  return API_CODECS.get(apiKey)?.name ?? `API ${apiKey}`;
}

/** A KafkaError for a broker's error code, naming what it concerns: `UNKNOWN_TOPIC_OR_PARTITION (topic 'x')`. */
export function responseError(code: number, context: string, brokerMessage?: string | null): KafkaError {
  const detail = brokerMessage ? `: ${brokerMessage}` : '';
  return new KafkaError(code, `${errorName(code)} (${context})${detail}`);
}

/** Whether an error is worth retrying after refreshing metadata or reconnecting. */
export function isRetriableError(e: unknown): boolean {
  if (e instanceof NetworkError || e instanceof RequestTimeoutError) return true;
  if (e instanceof UnsupportedApiError) return false;
  return e instanceof KafkaError && e.retriable;
}

/** The topic does not exist (and was not auto-created). Not retried: waiting will not create it. */
export class UnknownTopicError extends KafkaError {
  override name = 'UnknownTopicError';
  readonly topic: string;

  constructor(topic: string) {
    super(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `unknown topic '${topic}'`);
    this.topic = topic;
  }

  override get retriable(): boolean {
    return false;
  }
}

/** The topic exists but has no such partition. */
export class UnknownPartitionError extends KafkaError {
  override name = 'UnknownPartitionError';
  readonly topic: string;
  readonly partition: number;
  readonly partitionCount: number;

  constructor(topic: string, partition: number, partitionCount: number) {
    super(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `topic '${topic}' has no partition ${partition} (it has ${partitionCount})`);
    this.topic = topic;
    this.partition = partition;
    this.partitionCount = partitionCount;
  }

  override get retriable(): boolean {
    return false;
  }
}
