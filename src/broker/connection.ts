// One client connection: size-prefixed frames in, responses out in request order.
//
// The frame size is checked before anything is allocated for the frame: a negative size or one
// above the limit (socket.request.max.bytes; sasl.server.max.receive.size before authentication)
// closes the connection. Requests are handed to their handler in arrival order and synchronously,
// so appends from pipelined produce requests keep their order; responses are queued in slots and
// written strictly in request order.
//
// Frames are cut by a FrameReader: on sockets the server hands over with `onread`, a large frame is
// read by the kernel straight into its own buffer, and Produce frames use pooled memory that goes
// back to the pool once the handler's result has settled (frame-pool.ts says why that is safe).
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
import { FrameReader, type Frame } from './frame-reader.ts';
import type { FramePool } from './frame-pool.ts';
import { adoptWithOnread } from './socket-adopt.ts';

export type { ConnectionLimits } from './limits.ts';

interface Slot {
  done: boolean;
  /** Response bytes with the size prefix already patched in; null: no response (acks=0). */
  chunks: Buffer[] | null;
  size: number;
  requestBytes: number;
  /** Close the connection once every earlier response is written. */
  close?: boolean;
  /** Pooled buffers the response carries (ctx.buffers): back to the pool once it is written. */
  held: Buffer[] | null;
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
  /** The kernel reads into the broker's frame buffers (socket-adopt.ts); false: 'data' events. */
  readsInPlace: boolean;
}

/** Unread request bytes a blocked connection keeps reading before it pauses the socket. */
export const UNREAD_HIGH_WATER = 256 * 1024;

export class Connection {
  readonly info: ConnectionInfo & ConnectionAuth;
  /** The socket the connection reads and writes (not the accepted one when it was adopted for onread). */
  readonly socket: Socket;
  private readonly reader: FrameReader;
  private readonly readsInPlace: boolean;
  private readonly pool: FramePool | null;
  private readonly handlers: ReadonlyMap<number, ApiHandler>;
  private readonly broker: Broker;
  private readonly limits: ConnectionLimits;
  private readonly log: (line: string) => void;
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

  /**
   * `accepted` must not have been read from yet (the server accepts with pauseOnConnect): it is
   * adopted for onread when possible, otherwise read through 'data' events.
   */
  constructor(accepted: Socket, info: ConnectionInfo, handlers: ReadonlyMap<number, ApiHandler>, broker: Broker, limits: ConnectionLimits, log: (line: string) => void, pool: FramePool | null = null) {
    this.pool = pool;
    this.reader = new FrameReader(pool, (size) => this.checkFrameSize(size));
    const adopted = adoptWithOnread(accepted, {
      buffer: () => this.reader.readBuffer(),
      read: (n, buf) => this.onInput(() => this.reader.onRead(n, buf)),
    });
    const socket = adopted ?? accepted;
    this.socket = socket;
    this.readsInPlace = adopted !== null;
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
    if (adopted === null) {
      socket.on('data', (chunk: Buffer) => this.onInput(() => this.reader.feed(chunk)));
      socket.resume();
    }
    socket.on('drain', () => this.maybeResume());
    socket.on('error', () => this.close());
    socket.on('close', () => {
      this.closed = true;
      this.reader.discard();
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
    this.reader.discard();
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
      unreadRequestBytes: this.reader.unreadBytes,
      blocked: this.blocked,
      readingPaused: this.readingPaused,
      authenticated: this.authenticated,
      readsInPlace: this.readsInPlace,
    };
  }

  /** The frame size prefix was read: false (and the connection closes) when it is not allowed. */
  private checkFrameSize(size: number): boolean {
    if (size >= 0 && size <= this.maxFrameBytes) return true;
    this.close(`invalid frame size ${size} (limit ${this.maxFrameBytes}${this.authenticated ? '' : ' before authentication'})`);
    return false;
  }

  private onInput(read: () => void): void {
    if (this.closed) return;
    try {
      read();
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
        const frame = this.reader.take();
        if (frame === undefined) break;
        took = true;
        this.handleFrame(frame);
      }
    } finally {
      this.pumping = false;
    }
    if (this.closed) return;
    const hold = this.blocked && this.reader.unreadBytes >= UNREAD_HIGH_WATER;
    if (hold !== this.readingPaused) {
      this.readingPaused = hold;
      if (hold) this.socket.pause();
      else this.socket.resume();
    }
    // The receive deadline runs from the first byte of an unfinished frame.
    if (!this.reader.partial && this.reader.readyCount === 0) this.receiveStartedAt = -1;
    else if (took || this.receiveStartedAt < 0) this.receiveStartedAt = performance.now();
  }

  private handleFrame(f: Frame): void {
    const frame = f.bytes;
    const r = new Reader(frame);
    let header;
    try {
      header = readRequestHeader(r);
    } catch {
      this.close('malformed request header');
      this.reader.release(f);
      return;
    }
    const { apiKey, apiVersion } = header;
    if (!this.authenticated && !PRE_AUTH_API_KEYS.has(apiKey)) {
      this.close(`api ${apiKey} before authentication`);
      this.reader.release(f);
      return;
    }
    const handler = this.handlers.get(apiKey);
    if (handler === undefined || apiVersion < handler.minVersion || apiVersion > handler.maxVersion) {
      if (apiKey === API_VERSIONS_KEY) {
        // KIP-511: answer an unknown ApiVersions version in v0 format with the full list.
        this.respondRaw(header.correlationId, apiVersionsFallback(this.handlers));
        this.reader.release(f);
        return;
      }
      this.close(`unsupported api ${apiKey} v${apiVersion}`);
      this.reader.release(f);
      return;
    }
    const codec = API_CODECS.get(apiKey)!;
    let request: unknown;
    try {
      if (isFlexibleRequest(apiKey, apiVersion)) r.readTaggedFields();
      request = codec.decodeRequest(r, apiVersion);
    } catch (e) {
      this.close(`malformed ${codec.name} v${apiVersion} request: ${e instanceof ProtocolError ? e.message : String(e)}`);
      this.reader.release(f);
      return;
    }
    const slot: Slot = { done: false, chunks: null, size: 0, requestBytes: frame.length, held: null };
    this.queue.push(slot);
    this.inFlightBytes += frame.length;
    const ctx: RequestContext = {
      apiKey,
      apiVersion,
      correlationId: header.correlationId,
      clientId: header.clientId,
      connection: this.info,
      broker: this.broker,
      buffers: this.pool === null ? null : {
        acquire: (size: number) => {
          const p = this.pool!.acquire(size);
          if (p.base !== null) (slot.held ??= []).push(p.base);
          return p.bytes;
        },
        release: (frame: Buffer) => {
          const i = slot.held?.findIndex((b) => b.buffer === frame.buffer) ?? -1;
          if (i >= 0) this.pool!.release(slot.held!.splice(i, 1)[0]);
        },
        discard: () => this.releaseHeld(slot),
      },
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
    // A handler that failed may still hold parts of its frame: only a settled result returns it.
    if (result instanceof Promise) {
      result.then((res) => {
        this.reader.release(f);
        this.complete(slot, res, codec.encodeResponse, header.correlationId, apiKey, apiVersion);
      }, onError);
    } else {
      this.reader.release(f);
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
    this.queue.push({ done: true, chunks, size: w.length, requestBytes: 0, held: null });
    this.queuedResponseBytes += w.length;
    this.flush();
  }

  private flush(): void {
    if (this.closed) return;
    let wrote = false;
    while (this.queue.length > 0 && this.queue[0].done) {
      const slot = this.queue.shift()!;
      if (slot.chunks === null) this.releaseHeld(slot);
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
      const last = slot.chunks.length - 1;
      for (let i = 0; i < last; i++) this.socket.write(slot.chunks[i]);
      // Writes complete in order: once the last chunk is written (or failed), none is in use.
      this.socket.write(slot.chunks[last], slot.held === null ? undefined : () => this.releaseHeld(slot));
    }
    if (wrote) this.socket.uncork();
    this.maybeResume();
  }

  private releaseHeld(slot: Slot): void {
    if (slot.held === null) return;
    for (const b of slot.held) this.pool!.release(b);
    slot.held = null;
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
