// An API handler owns one API key: it declares the versions it implements (ApiVersions is derived
// from these declarations) and turns a decoded request into a response.
import type { ApiTypes } from '../protocol/generated/api-index.ts';
import type { Broker } from './broker.ts';

export interface ConnectionInfo {
  readonly id: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly listener: string;
}

export interface RequestContext {
  readonly apiKey: number;
  readonly apiVersion: number;
  readonly correlationId: number;
  readonly clientId: string | null;
  readonly connection: ConnectionInfo;
  readonly broker: Broker;
  /**
   * Pooled memory for large response data (Fetch reads into it): each buffer goes back to the pool
   * once this request's response has been written, so nothing else may keep a reference to it.
   * Null where there is no pool (buffers are then allocated as usual).
   */
  readonly buffers?: ResponseBuffers | null;
}

export interface ResponseBuffers {
  /** A buffer of exactly `size` bytes, valid until the response is written. */
  acquire(size: number): Buffer;
  /** Returns one acquired buffer at once: nothing refers to it any more. */
  release(buffer: Buffer): void;
  /** Returns every buffer acquired so far at once: the caller has dropped all it read into them. */
  discard(): void;
}

/**
 * Returned instead of a response to close the connection once the earlier responses are written:
 * how Kafka tells an acks=0 producer that its request failed (it gets no response to read).
 */
export const CLOSE_CONNECTION: unique symbol = Symbol('close connection');

/** `null` means: send no response (Produce with acks=0). */
export type HandlerResult<T> = T | null | typeof CLOSE_CONNECTION | Promise<T | null | typeof CLOSE_CONNECTION>;

export interface ApiHandler {
  readonly apiKey: number;
  readonly minVersion: number;
  readonly maxVersion: number;
  handle(request: any, ctx: RequestContext): HandlerResult<any>;
}

export function defineHandler<K extends keyof ApiTypes>(
  apiKey: K,
  minVersion: number,
  maxVersion: number,
  handle: (request: ApiTypes[K]['request'], ctx: RequestContext) => HandlerResult<ApiTypes[K]['response']>,
): ApiHandler {
  return { apiKey, minVersion, maxVersion, handle };
}
