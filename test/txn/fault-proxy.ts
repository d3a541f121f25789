// A seeded TCP proxy between Kafka clients and a broker that loses responses: it follows the
// request frames to learn each correlation id's API key, and when a response of a chosen API (by
// default Produce) comes back it may, with the given probability, drop it and cut both connections
// — the request was carried out but the client never hears so, and retries it on a new connection.
// That is the fault idempotence exists for. The broker advertises the proxy's address, so clients
// stay behind it after bootstrap.
import net from 'node:net';
import { seeded } from '../helpers/seeded.ts';

/** Splits a byte stream into size-prefixed frames. */
class Framer {
  #buf: Buffer = Buffer.alloc(0);
  push(chunk: Buffer, onFrame: (frame: Buffer) => void): void {
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
    while (this.#buf.length >= 4) {
      const size = this.#buf.readInt32BE(0);
      if (this.#buf.length < 4 + size) break;
      onFrame(this.#buf.subarray(0, 4 + size));
      this.#buf = this.#buf.subarray(4 + size);
    }
  }
}

export interface FaultProxyOptions {
  seed: number;
  /** Probability that a response of one of `apiKeys` is dropped (and the connection cut). */
  dropRate: number;
  apiKeys?: readonly number[];
  /** Stop dropping after this many drops. */
  maxDrops?: number;
}

export class FaultProxy {
  readonly port: number;
  readonly stats = { connections: 0, dropped: 0, forwarded: 0 };
  dropRate: number;
  readonly #server: net.Server;
  readonly #sockets = new Set<net.Socket>();

  private constructor(server: net.Server, port: number, dropRate: number) {
    this.#server = server;
    this.port = port;
    this.dropRate = dropRate;
  }

  static async start(listenPort: number, target: { host: string; port: number }, opts: FaultProxyOptions): Promise<FaultProxy> {
    const rng = seeded(opts.seed);
    const keys = new Set(opts.apiKeys ?? [0]);
    const server = net.createServer();
    const proxy = new FaultProxy(server, listenPort, opts.dropRate);
    server.on('connection', (client) => {
      proxy.stats.connections++;
      const upstream = net.connect(target.port, target.host);
      proxy.#track(client);
      proxy.#track(upstream);
      const apiOf = new Map<number, number>();
      const cut = () => {
        client.destroy();
        upstream.destroy();
      };
      const fromClient = new Framer();
      client.on('data', (chunk: Buffer) => fromClient.push(chunk, (frame) => {
        if (frame.length >= 12) apiOf.set(frame.readInt32BE(8), frame.readInt16BE(4));
        upstream.write(frame);
      }));
      const fromBroker = new Framer();
      upstream.on('data', (chunk: Buffer) => fromBroker.push(chunk, (frame) => {
        if (client.destroyed) return;
        const correlationId = frame.readInt32BE(4);
        const api = apiOf.get(correlationId);
        apiOf.delete(correlationId);
        const canDrop = opts.maxDrops === undefined || proxy.stats.dropped < opts.maxDrops;
        if (api !== undefined && keys.has(api) && canDrop && rng() < proxy.dropRate) {
          proxy.stats.dropped++;
          cut();
          return;
        }
        proxy.stats.forwarded++;
        client.write(frame);
      }));
      client.on('error', cut);
      upstream.on('error', cut);
      client.on('close', cut);
      upstream.on('close', cut);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(listenPort, '127.0.0.1', () => resolve());
    });
    return proxy;
  }

  #track(s: net.Socket): void {
    this.#sockets.add(s);
    s.on('close', () => this.#sockets.delete(s));
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
