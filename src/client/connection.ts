// One TCP connection to a Kafka-protocol broker, speaking the generated codec: requests are
// pipelined and matched to responses by correlation id. The base of Brook's own client, CLI and
// test tools.
import net from 'node:net';
import { Reader } from '../protocol/reader.ts';
import { Writer } from '../protocol/writer.ts';
import { API_CODECS, type ApiTypes } from '../protocol/generated/api-index.ts';
import { isFlexibleRequest, isFlexibleResponse, writeRequestHeader } from '../protocol/request-header.ts';

interface Pending {
  apiKey: number;
  version: number;
  resolve: (v: any) => void;
  reject: (e: Error) => void;
}

export class ConnectionError extends Error {
  override name = 'ConnectionError';
}

export class KafkaConnection {
  private readonly socket: net.Socket;
  private readonly pending = new Map<number, Pending>();
  private nextCorrelationId = 1;
  private chunks: Buffer[] = [];
  private buffered = 0;
  private closedError: Error | null = null;
  readonly clientId: string;

  private constructor(socket: net.Socket, clientId: string) {
    this.socket = socket;
    this.clientId = clientId;
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (e) => this.fail(new ConnectionError(e.message)));
    socket.on('close', () => this.fail(new ConnectionError('connection closed by the broker')));
  }

  static connect(host: string, port: number, opts: { clientId?: string; timeoutMs?: number } = {}): Promise<KafkaConnection> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host, port, noDelay: true });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new ConnectionError(`connecting to ${host}:${port} timed out`));
      }, opts.timeoutMs ?? 10_000);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(new KafkaConnection(socket, opts.clientId ?? 'brook'));
      });
      socket.once('error', (e) => {
        clearTimeout(timer);
        reject(new ConnectionError(`cannot reach ${host}:${port}: ${e.message}`));
      });
    });
  }

  get closed(): boolean {
    return this.closedError !== null;
  }

  /** Sends a request; resolves with the decoded response (or undefined when none is expected). */
  send<K extends keyof ApiTypes>(apiKey: K, version: number, request: ApiTypes[K]['request'], opts: { expectResponse?: boolean } = {}): Promise<ApiTypes[K]['response']> {
    if (this.closedError) return Promise.reject(this.closedError);
    const codec = API_CODECS.get(apiKey)!;
    const correlationId = this.nextCorrelationId++;
    const w = new Writer(256);
    w.writeInt32(0); // size, patched below
    writeRequestHeader(w, { apiKey, apiVersion: version, correlationId, clientId: this.clientId }, isFlexibleRequest(apiKey, version));
    codec.encodeRequest(w, request, version);
    const chunks = w.toChunks();
    const size = chunks.reduce((n, c) => n + c.length, 0) - 4;
    chunks[0].writeInt32BE(size, 0);
    const expect = opts.expectResponse ?? true;
    const result = expect
      ? new Promise<any>((resolve, reject) => this.pending.set(correlationId, { apiKey, version, resolve, reject }))
      : Promise.resolve(undefined);
    this.socket.cork();
    for (const c of chunks) this.socket.write(c);
    this.socket.uncork();
    return result;
  }

  /** Writes raw bytes (fuzzing and protocol tests). */
  writeRaw(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  close(): void {
    this.socket.destroy();
    this.fail(new ConnectionError('connection closed'));
  }

  private fail(e: Error): void {
    if (this.closedError) return;
    this.closedError = e;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  private onData(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    while (this.buffered >= 4) {
      const head = this.chunks[0].length >= 4 ? this.chunks[0] : Buffer.concat(this.chunks);
      const size = head.readInt32BE(0);
      if (this.buffered < 4 + size) return;
      const all = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
      const frame = all.subarray(4, 4 + size);
      const rest = all.subarray(4 + size);
      this.chunks = rest.length > 0 ? [rest] : [];
      this.buffered = rest.length;
      this.handleFrame(frame);
    }
  }

  private handleFrame(frame: Buffer): void {
    const r = new Reader(frame);
    const correlationId = r.readInt32();
    const p = this.pending.get(correlationId);
    if (p === undefined) return;
    this.pending.delete(correlationId);
    // An ApiVersions error answer comes in v0 format whatever version was asked (KIP-511).
    const unsupported = p.apiKey === 18 && frame.length >= 6 && frame.readInt16BE(4) === 35;
    try {
      if (isFlexibleResponse(p.apiKey, p.version)) r.readTaggedFields();
      p.resolve(API_CODECS.get(p.apiKey)!.decodeResponse(r, unsupported ? 0 : p.version));
    } catch (e) {
      // Some brokers (librdkafka's mock cluster 2.0) answer an unknown ApiVersions version with a
      // body that is not v0: keep the error code, which is all a client needs to retry lower.
      if (unsupported) {
        p.resolve({ errorCode: 35, apiKeys: [], throttleTimeMs: 0, supportedFeatures: [], finalizedFeaturesEpoch: -1n, finalizedFeatures: [], zkMigrationReady: false });
      } else {
        p.reject(e as Error);
      }
    }
  }
}
