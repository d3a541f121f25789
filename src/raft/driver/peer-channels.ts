// Node-to-node connections on the controller listener. Requests on one Kafka connection are
// answered in order, so a long-polling KRaft Fetch would hold up everything behind it: each kind of
// traffic gets its own connection per peer (a "channel": fetch, vote, control, broker, ...).
// Connections are opened on first use and again after a failure; a request without an answer
// within its timeout closes its connection (whatever follows it would wait as long) and rejects.

import { KafkaConnection } from '../../client/connection.ts';
import type { ApiTypes } from '../../protocol/generated/api-index.ts';

export interface Endpoint {
  host: string;
  port: number;
}

export class PeerUnavailableError extends Error {
  override name = 'PeerUnavailableError';
}

export interface PeerChannelsOptions {
  /** Where each node's controller listener is. */
  endpoints: ReadonlyMap<number, Endpoint>;
  /** Client id sent in request headers, per channel (default: `defaultClientId`). */
  clientIds?: Readonly<Record<string, string>>;
  defaultClientId: string;
  connectTimeoutMs: number;
}

export class PeerChannels {
  readonly #opts: PeerChannelsOptions;
  readonly #conns = new Map<string, Promise<KafkaConnection>>();
  #closed = false;

  constructor(opts: PeerChannelsOptions) {
    this.#opts = opts;
  }

  has(nodeId: number): boolean {
    return this.#opts.endpoints.has(nodeId);
  }

  async send<K extends keyof ApiTypes>(
    to: number, channel: string, apiKey: K, version: number, body: ApiTypes[K]['request'], timeoutMs: number,
  ): Promise<ApiTypes[K]['response']> {
    const conn = await this.#connection(to, channel);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.#drop(to, channel, conn);
        reject(new PeerUnavailableError(`node ${to} did not answer api ${apiKey} within ${timeoutMs} ms`));
      }, timeoutMs);
    });
    try {
      return await Promise.race([conn.send(apiKey, version, body), timeout]);
    } catch (e) {
      this.#drop(to, channel, conn);
      throw e;
    } finally {
      clearTimeout(timer);
    }
  }

  close(): void {
    this.#closed = true;
    for (const p of this.#conns.values()) p.then((c) => c.close(), () => undefined);
    this.#conns.clear();
  }

  async #connection(to: number, channel: string): Promise<KafkaConnection> {
    if (this.#closed) throw new PeerUnavailableError('closed');
    const key = `${to}/${channel}`;
    const existing = this.#conns.get(key);
    if (existing !== undefined) {
      const c = await existing.catch(() => null);
      if (c !== null && !c.closed) return c;
      if (this.#conns.get(key) === existing) this.#conns.delete(key);
      return this.#connection(to, channel);
    }
    const ep = this.#opts.endpoints.get(to);
    if (ep === undefined) throw new PeerUnavailableError(`no controller address for node ${to}`);
    const clientId = this.#opts.clientIds?.[channel] ?? this.#opts.defaultClientId;
    const p = KafkaConnection.connect(ep.host, ep.port, { clientId, timeoutMs: this.#opts.connectTimeoutMs }).then((c) => {
      if (this.#closed) c.close();
      return c;
    });
    this.#conns.set(key, p);
    try {
      return await p;
    } catch (e) {
      if (this.#conns.get(key) === p) this.#conns.delete(key);
      throw e;
    }
  }

  #drop(_to: number, _channel: string, conn: KafkaConnection): void {
    // A closed connection is replaced on the next send.
    if (!conn.closed) conn.close();
  }
}
