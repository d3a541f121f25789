// One client connection: size-prefixed frames in, responses out in request order.
//
// The frame size is checked before anything is allocated for the frame (a negative size or one
// above socket.request.max.bytes closes the connection). Requests are handed to their handler in
// arrival order and synchronously, so appends from pipelined produce requests keep their order;
// responses are queued in slots and written strictly in request order. Reading pauses while too
// many requests are in flight or too many response bytes wait in the socket (backpressure from a
// slow reader), and resumes when both drain.
import type { Socket } from 'node:net';
import { Reader, ProtocolError } from '../protocol/reader.ts';
import { Writer } from '../protocol/writer.ts';
import { API_CODECS } from '../protocol/generated/api-index.ts';
import { readRequestHeader, writeResponseHeader, isFlexibleRequest, isFlexibleResponse, API_VERSIONS_KEY } from './request-header.ts';
import type { ApiHandler, ConnectionInfo, RequestContext } from './handler.ts';
import type { Broker } from './broker.ts';
import { apiVersionsFallback } from './handlers/18-api-versions.ts';

export interface ConnectionLimits {
  maxRequestBytes: number;
  maxInFlight: number;
  maxBufferedResponseBytes: number;
  idleTimeoutMs: number;
}

interface Slot {
  done: boolean;
  chunks: Buffer[] | null;
}

export class Connection {
  readonly info: ConnectionInfo;
  private readonly socket: Socket;
  private readonly handlers: ReadonlyMap<number, ApiHandler>;
  private readonly broker: Broker;
  private readonly limits: ConnectionLimits;
  private readonly log: (line: string) => void;
  private chunks: Buffer[] = [];
  private buffered = 0;
  private frameSize = -1;
  private readonly queue: Slot[] = [];
  private paused = false;
  closed = false;

  constructor(socket: Socket, info: ConnectionInfo, handlers: ReadonlyMap<number, ApiHandler>, broker: Broker, limits: ConnectionLimits, log: (line: string) => void) {
    this.socket = socket;
    this.info = info;
    this.handlers = handlers;
    this.broker = broker;
    this.limits = limits;
    this.log = log;
    socket.setNoDelay(true);
    if (limits.idleTimeoutMs > 0) {
      socket.setTimeout(limits.idleTimeoutMs, () => this.close('idle timeout'));
    }
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => this.maybeResume());
    socket.on('error', () => this.close());
    socket.on('close', () => {
      this.closed = true;
    });
  }

  close(reason?: string): void {
    if (this.closed) return;
    this.closed = true;
    if (reason) this.log(`connection ${this.info.remoteAddress}:${this.info.remotePort} closed: ${reason}`);
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    while (!this.closed) {
      if (this.frameSize < 0) {
        if (this.buffered < 4) break;
        const size = this.peekInt32();
        if (size < 0 || size > this.limits.maxRequestBytes) {
          this.close(`invalid frame size ${size}`);
          return;
        }
        this.consume(4);
        this.frameSize = size;
      }
      if (this.buffered < this.frameSize) break;
      const frame = this.take(this.frameSize);
      this.frameSize = -1;
      this.handleFrame(frame);
    }
    if (!this.closed && this.queue.length >= this.limits.maxInFlight) this.pause();
  }

  private peekInt32(): number {
    const first = this.chunks[0];
    if (first.length >= 4) return first.readInt32BE(0);
    const head = Buffer.concat(this.chunks, Math.min(this.buffered, 8));
    return head.readInt32BE(0);
  }

  private consume(n: number): void {
    this.take(n);
  }

  /** Removes and returns the next n bytes: a slice when they sit in one chunk, else one copy. */
  private take(n: number): Buffer {
    this.buffered -= n;
    const first = this.chunks[0];
    if (first.length > n) {
      this.chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    if (first.length === n) {
      this.chunks.shift();
      return first;
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const c = this.chunks[0];
      const want = n - filled;
      if (c.length <= want) {
        c.copy(out, filled);
        filled += c.length;
        this.chunks.shift();
      } else {
        c.copy(out, filled, 0, want);
        this.chunks[0] = c.subarray(want);
        filled += want;
      }
    }
    return out;
  }

  private handleFrame(frame: Buffer): void {
    const r = new Reader(frame);
    let header;
    try {
      header = readRequestHeader(r);
    } catch {
      this.close('malformed request header');
      return;
    }
    const { apiKey, apiVersion } = header;
    const handler = this.handlers.get(apiKey);
    if (handler === undefined || apiVersion < handler.minVersion || apiVersion > handler.maxVersion) {
      if (apiKey === API_VERSIONS_KEY) {
        // KIP-511: answer an unknown ApiVersions version in v0 format with the full list.
        this.respondRaw(header.correlationId, apiVersionsFallback(this.handlers));
        return;
      }
      this.close(`unsupported api ${apiKey} v${apiVersion}`);
      return;
    }
    const codec = API_CODECS.get(apiKey)!;
    let request: unknown;
    try {
      if (isFlexibleRequest(apiKey, apiVersion)) r.readTaggedFields();
      request = codec.decodeRequest(r, apiVersion);
    } catch (e) {
      this.close(`malformed ${codec.name} v${apiVersion} request: ${e instanceof ProtocolError ? e.message : String(e)}`);
      return;
    }
    const slot: Slot = { done: false, chunks: null };
    this.queue.push(slot);
    const ctx: RequestContext = {
      apiKey,
      apiVersion,
      correlationId: header.correlationId,
      clientId: header.clientId,
      connection: this.info,
      broker: this.broker,
    };
    const onError = (e: unknown) => {
      this.log(`${codec.name} v${apiVersion} failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      this.close(`${codec.name} handler failed`);
    };
    let result;
    try {
      result = handler.handle(request, ctx);
    } catch (e) {
      onError(e);
      return;
    }
    if (result instanceof Promise) {
      result.then((res) => this.complete(slot, res, codec.encodeResponse, header.correlationId, apiKey, apiVersion), onError);
    } else {
      this.complete(slot, result, codec.encodeResponse, header.correlationId, apiKey, apiVersion);
    }
  }

  private complete(slot: Slot, response: unknown, encode: (w: Writer, v: any, version: number) => void, correlationId: number, apiKey: number, apiVersion: number): void {
    if (response !== null) {
      const w = new Writer(512);
      writeResponseHeader(w, correlationId, isFlexibleResponse(apiKey, apiVersion));
      try {
        encode(w, response, apiVersion);
      } catch (e) {
        this.log(`encoding api ${apiKey} v${apiVersion} response failed: ${e instanceof Error ? e.stack : e}`);
        this.close('response encoding failed');
        return;
      }
      slot.chunks = w.toChunks();
    }
    slot.done = true;
    this.flush();
  }

  private respondRaw(correlationId: number, body: Buffer): void {
    const w = new Writer(64);
    writeResponseHeader(w, correlationId, false);
    w.writeRaw(body);
    this.queue.push({ done: true, chunks: w.toChunks() });
    this.flush();
  }

  private flush(): void {
    if (this.closed) return;
    let wrote = false;
    while (this.queue.length > 0 && this.queue[0].done) {
      const slot = this.queue.shift()!;
      if (slot.chunks === null) continue;
      if (!wrote) this.socket.cork();
      wrote = true;
      let size = 0;
      for (const c of slot.chunks) size += c.length;
      const prefix = Buffer.allocUnsafe(4);
      prefix.writeInt32BE(size, 0);
      this.socket.write(prefix);
      for (const c of slot.chunks) this.socket.write(c);
    }
    if (wrote) this.socket.uncork();
    if (this.socket.writableLength > this.limits.maxBufferedResponseBytes) this.pause();
    else this.maybeResume();
  }

  private pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.socket.pause();
  }

  private maybeResume(): void {
    if (!this.paused || this.closed) return;
    if (this.queue.length < this.limits.maxInFlight && this.socket.writableLength <= this.limits.maxBufferedResponseBytes) {
      this.paused = false;
      this.socket.resume();
    }
  }
}
