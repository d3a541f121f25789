// One broker node as the client sees it: an address, a lazily (re)opened KafkaConnection, and the
// API versions negotiated with ApiVersions on every new connection. The first ApiVersions is v3
// (KIP-511: carries the software name and version); a broker that does not know v3 answers
// UNSUPPORTED_VERSION with its own range, and the handshake is retried with the highest version
// both know (v0 when the answer carried no list).
import { BROOK_VERSION } from '../config/version.ts';
import { ApiKey, type ApiTypes } from '../protocol/generated/api-index.ts';
import type { ApiVersion } from '../protocol/generated/api-versions-response.ts';
import { ErrorCode } from '../protocol/errors.ts';
import { ConnectionError, KafkaConnection } from './connection.ts';
import { formatAddress, type BrokerAddress } from './addresses.ts';
import { NetworkError, RequestTimeoutError, UnsupportedApiError, responseError } from './errors.ts';
import { CLIENT_API_VERSIONS, negotiateVersions } from './versions.ts';

export interface NodeConnectionOptions {
  clientId: string;
  connectTimeoutMs: number;
  requestTimeoutMs: number;
}

export type RequestBuilder<K extends keyof ApiTypes> = ApiTypes[K]['request'] | ((version: number) => ApiTypes[K]['request']);

export interface SendOptions {
  /** Added to the request timeout (a Fetch long poll's max wait, a Produce's timeout). */
  extraTimeoutMs?: number;
  /** Produce with acks=0: the broker sends no response. */
  noResponse?: boolean;
}

export class NodeConnection {
  readonly address: BrokerAddress;
  readonly label: string;
  /** The node id, once known from metadata (null for a bootstrap address). */
  nodeId: number | null;
  private readonly opts: NodeConnectionOptions;
  private conn: KafkaConnection | null = null;
  private opening: Promise<KafkaConnection> | null = null;
  private versions = new Map<number, number>();
  private brokerApis: ApiVersion[] = [];
  private closedForGood = false;
  private inFlight = 0;

  constructor(address: BrokerAddress, nodeId: number | null, opts: NodeConnectionOptions) {
    this.address = address;
    this.label = formatAddress(address);
    this.nodeId = nodeId;
    this.opts = opts;
  }

  /** Requests sent and not yet answered. */
  get pending(): number {
    return this.inFlight;
  }

  get connected(): boolean {
    return this.conn !== null && !this.conn.closed;
  }

  /** Opens the connection (and negotiates versions) unless it is open. */
  async ensure(): Promise<void> {
    await this.open();
  }

  /** The broker's advertised ranges from the last handshake. */
  get advertised(): readonly ApiVersion[] {
    return this.brokerApis;
  }

  /** Whether the broker and this client share a version of the API (after ensure()). */
  supports(apiKey: number): boolean {
    return this.versions.has(apiKey);
  }

  /**
   * Uses at most `maxVersion` of an API on this node from now on (until reconnecting), for brokers
   * whose answers at newer versions do not parse.
   */
  capVersion(apiKey: number, maxVersion: number): void {
    const v = this.versions.get(apiKey);
    if (v !== undefined && v > maxVersion) this.versions.set(apiKey, maxVersion);
  }

  versionFor(apiKey: number): number {
    const v = this.versions.get(apiKey);
    if (v === undefined) throw new UnsupportedApiError(this.label, apiKey);
    return v;
  }

  async send<K extends keyof ApiTypes>(apiKey: K, build: RequestBuilder<K>, opts: SendOptions = {}): Promise<ApiTypes[K]['response']> {
    const conn = await this.open();
    const version = this.versionFor(apiKey);
    const request = typeof build === 'function' ? (build as (v: number) => ApiTypes[K]['request'])(version) : build;
    return this.exchange(conn, apiKey, version, request, opts);
  }

  close(): void {
    this.closedForGood = true;
    this.conn?.close();
    this.conn = null;
  }

  private async exchange<K extends keyof ApiTypes>(conn: KafkaConnection, apiKey: K, version: number, request: ApiTypes[K]['request'], opts: SendOptions): Promise<ApiTypes[K]['response']> {
    const timeoutMs = this.opts.requestTimeoutMs + (opts.extraTimeoutMs ?? 0);
    this.inFlight++;
    let timer: NodeJS.Timeout | undefined;
    try {
      const answer = conn.send(apiKey, version, request, { expectResponse: !opts.noResponse });
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          // Answers come in request order: one that is overdue holds up all the others.
          conn.close();
          reject(new RequestTimeoutError(this.label, apiKey, timeoutMs));
        }, timeoutMs);
      });
      return await Promise.race([answer, timeout]);
    } catch (e) {
      if (e instanceof ConnectionError) throw new NetworkError(this.label, e.message, { cause: e });
      throw e;
    } finally {
      clearTimeout(timer);
      this.inFlight--;
    }
  }

  private open(): Promise<KafkaConnection> {
    if (this.closedForGood) return Promise.reject(new NetworkError(this.label, 'connection closed by the client'));
    if (this.conn !== null && !this.conn.closed) return Promise.resolve(this.conn);
    this.conn = null;
    if (this.opening === null) {
      this.opening = this.handshake().finally(() => {
        this.opening = null;
      });
    }
    return this.opening;
  }

  private async handshake(): Promise<KafkaConnection> {
    let conn: KafkaConnection;
    try {
      conn = await KafkaConnection.connect(this.address.host, this.address.port, { clientId: this.opts.clientId, timeoutMs: this.opts.connectTimeoutMs });
    } catch (e) {
      throw new NetworkError(this.label, e instanceof Error ? e.message : String(e), { cause: e });
    }
    try {
      let version = CLIENT_API_VERSIONS.get(ApiKey.ApiVersions)![1];
      let res = await this.exchange(conn, ApiKey.ApiVersions, version, { clientSoftwareName: 'brook', clientSoftwareVersion: BROOK_VERSION }, {});
      if (res.errorCode === ErrorCode.UNSUPPORTED_VERSION) {
        const theirs = res.apiKeys.find((k) => k.apiKey === ApiKey.ApiVersions);
        version = theirs ? Math.min(version, theirs.maxVersion) : 0;
        res = await this.exchange(conn, ApiKey.ApiVersions, version, { clientSoftwareName: 'brook', clientSoftwareVersion: BROOK_VERSION }, {});
      }
      if (res.errorCode !== 0) throw responseError(res.errorCode, `ApiVersions v${version} at ${this.label}`);
      this.brokerApis = res.apiKeys;
      this.versions = negotiateVersions(res.apiKeys);
    } catch (e) {
      conn.close();
      throw e;
    }
    if (this.closedForGood) {
      conn.close();
      throw new NetworkError(this.label, 'connection closed by the client');
    }
    this.conn = conn;
    return conn;
  }
}
