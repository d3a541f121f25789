// A raw TCP peer for hostile-input tests: writes arbitrary bytes, collects what comes back, and
// tells when the broker closed the connection. Frames are [int32 size][request header v1/v2][body].
import net from 'node:net';
import { Writer } from '../../src/protocol/writer.ts';
import { API_CODECS, type ApiTypes } from '../../src/protocol/generated/api-index.ts';
import { isFlexibleRequest, writeRequestHeader } from '../../src/protocol/request-header.ts';
import { createApiVersionsRequest } from '../../src/protocol/generated/api-versions-request.ts';

export interface RawConnection {
  socket: net.Socket;
  received(): Buffer;
  isClosed(): boolean;
  /** Resolves true once the broker has closed the socket, false if it is still open after `ms`. */
  closed(ms?: number): Promise<boolean>;
  /** Resolves with the complete response frames received so far once there are `n` (or rejects after `ms`). */
  responses(n: number, ms?: number): Promise<Buffer[]>;
  destroy(): void;
}

export function connectRaw(host: string, port: number, opts: { localAddress?: string } = {}): Promise<RawConnection> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port, localAddress: opts.localAddress, noDelay: true });
    const chunks: Buffer[] = [];
    let total = 0;
    let closed = false;
    const waiters = new Set<() => void>();
    const wake = () => {
      for (const w of waiters) w();
    };
    // Response frames are cut out as bytes arrive, so waiting for many large answers stays linear.
    const parsed: Buffer[] = [];
    let parts: Buffer[] = [];
    let partsLength = 0;
    let bodySize = -1; // -1: waiting for a size prefix
    socket.on('data', (d: Buffer) => {
      chunks.push(d);
      total += d.length;
      parts.push(d);
      partsLength += d.length;
      for (;;) {
        const want = bodySize < 0 ? 4 : bodySize;
        if (partsLength < want) break;
        const joined = parts.length === 1 ? parts[0] : Buffer.concat(parts, partsLength);
        if (bodySize < 0) {
          bodySize = joined.readInt32BE(0);
          parts = [joined.subarray(4)];
          partsLength -= 4;
          continue;
        }
        parsed.push(joined.subarray(0, bodySize));
        parts = [joined.subarray(bodySize)];
        partsLength -= bodySize;
        bodySize = -1;
      }
      wake();
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      closed = true;
      wake();
    });
    const received = () => (chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, total));
    const frames = (): Buffer[] => parsed;
    const until = (done: () => boolean, ms: number): Promise<boolean> => new Promise((res) => {
      if (done()) return res(true);
      const timer = setTimeout(() => {
        waiters.delete(check);
        res(false);
      }, ms);
      const check = () => {
        if (!done()) return;
        clearTimeout(timer);
        waiters.delete(check);
        res(true);
      };
      waiters.add(check);
    });
    socket.once('connect', () => {
      socket.removeListener('error', reject);
      resolve({
        socket,
        received,
        isClosed: () => closed,
        closed: (ms = 5000) => until(() => closed, ms),
        async responses(n, ms = 5000) {
          if (!(await until(() => frames().length >= n || closed, ms)) || frames().length < n) {
            throw new Error(`expected ${n} responses, got ${frames().length}${closed ? ' (connection closed)' : ''}`);
          }
          return frames();
        },
        destroy: () => socket.destroy(),
      });
    });
    socket.once('error', reject);
  });
}

/** Prefixes `payload` with its int32 size. */
export function frame(payload: Buffer): Buffer {
  const size = Buffer.alloc(4);
  size.writeInt32BE(payload.length, 0);
  return Buffer.concat([size, payload]);
}

/** A 4-byte size prefix claiming `size` (any int32, e.g. -1 or 2^31-1). */
export function sizePrefix(size: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(size | 0, 0);
  return b;
}

/** A whole request frame encoded with the generated codec (header v1, or v2 for flexible versions). */
export function requestFrame<K extends keyof ApiTypes>(apiKey: K, version: number, correlationId: number, request: ApiTypes[K]['request'], clientId = 'raw'): Buffer {
  const w = new Writer(256);
  w.writeInt32(0);
  writeRequestHeader(w, { apiKey, apiVersion: version, correlationId, clientId }, isFlexibleRequest(apiKey, version));
  API_CODECS.get(apiKey)!.encodeRequest(w, request, version);
  const out = w.toBuffer();
  out.writeInt32BE(out.length - 4, 0);
  return out;
}

/** An ApiVersions v0 request frame, padded with trailing bytes to `total` frame bytes (size prefix excluded). */
export function apiVersionsFrame(correlationId: number, total = 0): Buffer {
  const f = requestFrame(18, 0, correlationId, createApiVersionsRequest());
  const body = f.subarray(4);
  return frame(total > body.length ? Buffer.concat([body, Buffer.alloc(total - body.length)]) : body);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
