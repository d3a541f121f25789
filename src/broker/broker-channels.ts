// Connections from this broker to the other brokers' client listener, for the inter-broker APIs a
// partition leader and a transaction coordinator exchange (WriteTxnMarkers, AddPartitionsToTxn v4+
// verification, KIP-890). One connection per remote broker, opened on first use at the endpoint the
// metadata image lists for this node's listener name (the address Metadata gives clients), opened
// again after a failure or when the broker re-registered elsewhere, closed on shutdown. Requests
// are pipelined on it; each has its own deadline.
//
// Not yet: SASL on these connections (a SASL listener would refuse them unauthenticated).
import { KafkaConnection } from '../client/connection.ts';
import type { ApiTypes } from '../protocol/generated/api-index.ts';
import type { MetadataImage } from '../controller/image.ts';

export interface BrokerEndpoint {
  host: string;
  port: number;
}

/** How a connection is opened (KafkaConnection.connect; tests inject a fake). */
export type Connector = (host: string, port: number, opts: { clientId: string; timeoutMs: number }) => Promise<Conn>;

export class BrokerUnreachableError extends Error {
  override name = 'BrokerUnreachableError';
}

type Conn = Pick<KafkaConnection, 'send' | 'close' | 'closed'>;

interface Channel {
  endpoint: BrokerEndpoint;
  conn: Promise<Conn>;
  /** Set once connected. */
  open: Conn | null;
}

/** The endpoint of `brokerId` for `listenerName` (else its first), or null when unknown or fenced. */
export function endpointOf(image: MetadataImage, brokerId: number, listenerName: string): BrokerEndpoint | null {
  const b = image.brokers.get(brokerId);
  if (b === undefined || b.fenced) return null;
  const ep = b.endpoints.find((e) => e.name === listenerName) ?? b.endpoints[0];
  return ep === undefined ? null : { host: ep.host, port: ep.port };
}

export class BrokerChannels {
  readonly #channels = new Map<number, Channel>();
  readonly #endpoint: (brokerId: number) => BrokerEndpoint | null;
  readonly #connect: Connector;
  readonly #clientId: string;
  readonly #connectTimeoutMs: number;
  #closed = false;

  constructor(opts: { nodeId: number; endpoint: (brokerId: number) => BrokerEndpoint | null; connect?: Connector; connectTimeoutMs?: number }) {
    this.#endpoint = opts.endpoint;
    this.#connect = opts.connect ?? ((host, port, o) => KafkaConnection.connect(host, port, o));
    this.#clientId = `brook-broker-${opts.nodeId}`;
    this.#connectTimeoutMs = opts.connectTimeoutMs ?? 5000;
  }

  /**
   * Sends one request to `brokerId` and resolves with its response; rejects with a
   * BrokerUnreachableError when the broker is unknown, cannot be reached, or does not answer within
   * `timeoutMs` (the connection is then dropped, so the next request opens a fresh one).
   */
  async send<K extends keyof ApiTypes>(brokerId: number, apiKey: K, version: number, request: ApiTypes[K]['request'], timeoutMs: number): Promise<ApiTypes[K]['response']> {
    if (this.#closed) throw new BrokerUnreachableError('the broker is shutting down');
    const ch = this.#channel(brokerId);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new BrokerUnreachableError(`broker ${brokerId} did not answer within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      const conn = await Promise.race([ch.conn, deadline]);
      return await Promise.race([conn.send(apiKey, version, request), deadline]);
    } catch (e) {
      this.#drop(brokerId, ch);
      if (e instanceof BrokerUnreachableError) throw e;
      throw new BrokerUnreachableError(`broker ${brokerId}: ${(e as Error)?.message ?? e}`, { cause: e });
    } finally {
      clearTimeout(timer);
    }
  }

  #channel(brokerId: number): Channel {
    const endpoint = this.#endpoint(brokerId);
    if (endpoint === null) throw new BrokerUnreachableError(`broker ${brokerId} has no endpoint in the metadata`);
    const existing = this.#channels.get(brokerId);
    const same = existing !== undefined && existing.endpoint.host === endpoint.host && existing.endpoint.port === endpoint.port;
    // A connection the peer closed (it restarted) is replaced before it is used again.
    if (same && existing.open?.closed !== true) return existing;
    if (existing !== undefined) this.#drop(brokerId, existing);
    const conn = this.#connect(endpoint.host, endpoint.port, { clientId: this.#clientId, timeoutMs: this.#connectTimeoutMs });
    conn.catch(() => {});
    const ch: Channel = { endpoint, conn, open: null };
    this.#channels.set(brokerId, ch);
    conn.then((c) => {
      ch.open = c;
      if (this.#closed) c.close();
    }, () => this.#drop(brokerId, ch));
    return ch;
  }

  #drop(brokerId: number, ch: Channel): void {
    if (this.#channels.get(brokerId) === ch) this.#channels.delete(brokerId);
    if (ch.open !== null) ch.open.close();
    else ch.conn.then((c) => c.close(), () => {});
  }

  /** The address requests to `brokerId` go to, or null when it is unknown or fenced. */
  endpoint(brokerId: number): BrokerEndpoint | null {
    return this.#endpoint(brokerId);
  }

  /** Whether a live connection to `brokerId` is open or being opened (tests, diagnostics). */
  has(brokerId: number): boolean {
    return this.#channels.has(brokerId);
  }

  close(): void {
    this.#closed = true;
    for (const [id, ch] of [...this.#channels]) this.#drop(id, ch);
  }
}
