// One client connection: size-prefixed frames in, responses out in request order.
//
// The frame size is checked before anything is allocated for the frame: a negative size or one
// above the limit (socket.request.max.bytes; sasl.server.max.receive.size before authentication)
// closes the connection. Requests are handed to their handler in arrival order and synchronously,
// so appends from pipelined produce requests keep their order; responses are queued in slots and
// written strictly in request order.
//
// What one client can make the broker hold is bounded: a new frame is taken only while fewer than
// maxInFlight requests are unanswered, their request bytes are below one maximum frame, and the
// response bytes waiting for the client (in the socket, or finished behind an earlier unfinished
// response) are below maxBufferedResponseBytes. Otherwise the connection is blocked: frames wait
// unread, and once UNREAD_HIGH_WATER bytes wait the socket is paused, so the kernel's receive
// window pushes back on the client. Taking resumes when the condition clears. (Reading is not
// paused at once, so a connection at its in-flight cap does not pause and resume the socket for
// every request.)
import type { Socket } from 'node:net';
import { Reader, ProtocolError } from '../protocol/reader.ts';
import { Writer } from '../protocol/writer.ts';
import { API_CODECS } from '../protocol/generated/api-index.ts';
import { readRequestHeader, writeResponseHeader, isFlexibleRequest, isFlexibleResponse, API_VERSIONS_KEY } from '../protocol/request-header.ts';
import { CLOSE_CONNECTION, type ApiHandler, type ConnectionInfo, type RequestContext } from './handler.ts';
import type { Broker } from './broker.ts';
import { apiVersionsFallback } from './handlers/18-api-versions.ts';
import { PRE_AUTH_API_KEYS, type ConnectionAuth, type ConnectionLimits } from './limits.ts';

export type { ConnectionLimits } from './limits.ts';

interface Slot {
  done: boolean;
  /** Response bytes with the size prefix already patched in; null: no response (acks=0). */
  chunks: Buffer[] | null;
  size: number;
  requestBytes: number;
  /** Close the connection once every earlier response is written. */
  close?: boolean;
}

/** What a connection holds right now (for tests and diagnostics). */
export interface ConnectionState {
  inFlight: number;
  inFlightRequestBytes: number;
  /** Finished responses waiting behind an unfinished earlier one. */
  queuedResponseBytes: number;
  /** Bytes the socket has not yet handed to the kernel. */
  socketBufferedBytes: number;
  /** Request bytes read from the socket but not yet taken as a frame. */
  unreadRequestBytes: number;
  /** No new frame is taken until in-flight requests or buffered responses drain. */
  blocked: boolean;
  /** The socket is not being read (blocked, with UNREAD_HIGH_WATER bytes or more unread). */
  readingPaused: boolean;
  authenticated: boolean;
}

const EMPTY = Buffer.alloc(0);
/** Unread request bytes a blocked connection keeps reading before it pauses the socket. */
export const UNREAD_HIGH_WATER = 256 * 1024;

export class Connection {
  readonly info: ConnectionInfo & ConnectionAuth;
  private readonly socket: Socket;
  private readonly handlers: ReadonlyMap<number, ApiHandler>;
  private readonly broker: Broker;
  private readonly limits: ConnectionLimits;
  private readonly log: (line: string) => void;
  private chunks: Buffer[] = [];
  private buffered = 0;
  private frameSize = -1;
  private readonly queue: Slot[] = [];
  private inFlightBytes = 0;
  private queuedResponseBytes = 0;
  private readonly maxBufferedResponseBytes: number;
  private blocked = false;
  private readingPaused = false;
  private pumping = false;
  private authenticated: boolean;
  private maxFrameBytes: number;
  /** performance.now() when the first byte of the unfinished frame arrived; -1 when none is started. */
  receiveStartedAt = -1;
  closed = false;

  constructor(socket: Socket, info: ConnectionInfo, handlers: ReadonlyMap<number, ApiHandler>, broker: Broker, limits: ConnectionLimits, log: (line: string) => void) {
    this.socket = socket;
    this.handlers = handlers;
    this.broker = broker;
    this.limits = limits;
    this.log = log;
    this.authenticated = !limits.requireAuthentication;
    this.maxFrameBytes = this.authenticated ? limits.maxRequestBytes : limits.maxUnauthenticatedRequestBytes;
    // 'drain' fires only after a write has crossed the socket's high-water mark, so a smaller cap
    // could leave a paused connection waiting for an event that never comes.
    this.maxBufferedResponseBytes = Math.max(limits.maxBufferedResponseBytes, socket.writableHighWaterMark);
    const self = this;
    this.info = {
      id: info.id,
      remoteAddress: info.remoteAddress,
      remotePort: info.remotePort,
      listener: info.listener,
      get authenticated() {
        return self.authenticated;
      },
      authenticate: () => this.authenticate(),
    };
    socket.setNoDelay(true);
    if (limits.idleTimeoutMs > 0) {
      // A connection the broker still owes an answer (a long poll, a join waiting for its group) is
      // not idle; writing that answer re-arms the timer.
      socket.setTimeout(limits.idleTimeoutMs, () => {
        if (this.queue.length === 0) this.close('idle timeout (connections.max.idle.ms)');
      });
    }
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => this.maybeResume());
    socket.on('error', () => this.close());
    socket.on('close', () => {
      this.closed = true;
    });
  }

  /** Called by the SASL handler once the client has authenticated: lifts the pre-auth limits. */
  authenticate(): void {
    this.authenticated = true;
    this.maxFrameBytes = this.limits.maxRequestBytes;
  }

  close(reason?: string): void {
    if (this.closed) return;
    this.closed = true;
    if (reason) this.log(`connection ${this.info.remoteAddress}:${this.info.remotePort} closed: ${reason}`);
    this.socket.destroy();
  }

  /** True when a frame has been arriving for longer than the receive timeout (slow sender). */
  receiveExpired(now: number): boolean {
    return this.receiveStartedAt >= 0 && !this.blocked && this.limits.receiveTimeoutMs > 0
      && now - this.receiveStartedAt > this.limits.receiveTimeoutMs;
  }

  state(): ConnectionState {
    return {
      inFlight: this.queue.length,
      inFlightRequestBytes: this.inFlightBytes,
      queuedResponseBytes: this.queuedResponseBytes,
      socketBufferedBytes: this.socket.writableLength,
      unreadRequestBytes: this.buffered,
      blocked: this.blocked,
      readingPaused: this.readingPaused,
      authenticated: this.authenticated,
    };
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    try {
      this.pump();
    } catch (e) {
      // A bug on this connection's path must cost this connection, never the broker process.
      this.log(`connection ${this.info.id} failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      this.close('internal error');
    }
  }

  /** The broker holds as much for this client as it may: take no new frame until it drains. */
  private mustWait(): boolean {
    return this.queue.length >= this.limits.maxInFlight
      || this.inFlightBytes >= this.limits.maxRequestBytes
      || this.socket.writableLength + this.queuedResponseBytes > this.maxBufferedResponseBytes;
  }

  /** Takes and handles every complete frame that may be taken now. */
  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    let took = false;
    try {
      while (!this.closed) {
        if (this.mustWait()) {
          this.blocked = true;
          break;
        }
        this.blocked = false;
        if (this.frameSize < 0) {
          if (this.buffered < 4) break;
          const size = this.peekInt32();
          if (size < 0 || size > this.maxFrameBytes) {
            this.close(`invalid frame size ${size} (limit ${this.maxFrameBytes}${this.authenticated ? '' : ' before authentication'})`);
            return;
          }
          this.take(4);
          this.frameSize = size;
        }
        if (this.buffered < this.frameSize) break;
        const frame = this.take(this.frameSize);
        this.frameSize = -1;
        took = true;
        this.handleFrame(frame);
      }
    } finally {
      this.pumping = false;
    }
    const hold = this.blocked && this.buffered >= UNREAD_HIGH_WATER;
    if (hold !== this.readingPaused && !this.closed) {
      this.readingPaused = hold;
      if (hold) this.socket.pause();
      else this.socket.resume();
    }
    // The receive deadline runs from the first byte of an unfinished frame.
    if (this.buffered === 0 && this.frameSize < 0) this.receiveStartedAt = -1;
    else if (took || this.receiveStartedAt < 0) this.receiveStartedAt = performance.now();
  }

  private peekInt32(): number {
    const first = this.chunks[0];
    if (first.length >= 4) return first.readInt32BE(0);
    const head = Buffer.concat(this.chunks, Math.min(this.buffered, 8));
    return head.readInt32BE(0);
  }

  /** Removes and returns the next n bytes: a slice when they sit in one chunk, else one copy. */
  private take(n: number): Buffer {
    if (n === 0) return EMPTY;
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
    if (!this.authenticated && !PRE_AUTH_API_KEYS.has(apiKey)) {
      this.close(`api ${apiKey} before authentication`);
      return;
    }
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
    const slot: Slot = { done: false, chunks: null, size: 0, requestBytes: frame.length };
    this.queue.push(slot);
    this.inFlightBytes += frame.length;
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
    if (this.closed) return;
    this.inFlightBytes -= slot.requestBytes;
    if (response === CLOSE_CONNECTION) {
      slot.close = true;
    } else if (response !== null) {
      const w = new Writer(512);
      w.writeInt32(0); // size prefix, patched below
      writeResponseHeader(w, correlationId, isFlexibleResponse(apiKey, apiVersion));
      try {
        encode(w, response, apiVersion);
      } catch (e) {
        this.log(`encoding api ${apiKey} v${apiVersion} response failed: ${e instanceof Error ? e.stack : e}`);
        this.close('response encoding failed');
        return;
      }
      slot.chunks = w.toChunks();
      slot.size = w.length;
      slot.chunks[0].writeInt32BE(slot.size - 4, 0);
      this.queuedResponseBytes += slot.size;
    }
    slot.done = true;
    this.flush();
  }

  private respondRaw(correlationId: number, body: Buffer): void {
    const w = new Writer(64);
    w.writeInt32(0);
    writeResponseHeader(w, correlationId, false);
    w.writeRaw(body);
    const chunks = w.toChunks();
    chunks[0].writeInt32BE(w.length - 4, 0);
    this.queue.push({ done: true, chunks, size: w.length, requestBytes: 0 });
    this.queuedResponseBytes += w.length;
    this.flush();
  }

  private flush(): void {
    if (this.closed) return;
    let wrote = false;
    while (this.queue.length > 0 && this.queue[0].done) {
      const slot = this.queue.shift()!;
      if (slot.close === true) {
        if (wrote) this.socket.uncork();
        this.closed = true;
        this.socket.end();
        return;
      }
      if (slot.chunks === null) continue;
      if (!wrote) this.socket.cork();
      wrote = true;
      this.queuedResponseBytes -= slot.size;
      for (const c of slot.chunks) this.socket.write(c);
    }
    if (wrote) this.socket.uncork();
    this.maybeResume();
  }

  /** Takes frames again once a blocked connection has drained enough. */
  private maybeResume(): void {
    if (!this.blocked || this.closed || this.mustWait()) return;
    // Time spent waiting on the broker or on the client's reads is not the sender's fault.
    if (this.receiveStartedAt >= 0) this.receiveStartedAt = performance.now();
    try {
      this.pump();
    } catch (e) {
      this.log(`connection ${this.info.id} failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      this.close('internal error');
    }
  }
}
