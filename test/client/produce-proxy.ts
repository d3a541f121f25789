// A TCP proxy for watching the producer's pipeline: it counts Produce requests between request and
// answer (the most seen at once is how many the client kept in flight), can hold each Produce
// answer back for a while (a slow broker, so the client has time to fill its pipeline), can swallow
// chosen Produce requests (the broker never sees them, so the batches behind them are refused as
// out of sequence, and the client times the swallowed one out), and can drop a chosen answer and
// cut the connection (the broker wrote the batch; the client never hears so).
import net from 'node:net';
import type { TestBroker } from '../helpers/broker.ts';
import { startBehind } from '../txn/harness.ts';

export interface ProduceProxyOptions {
  /** Hold each Produce answer this long (answers keep their order). */
  delayMs?: number;
  /** Produce requests (1-based, over the proxy's life) never forwarded. */
  swallowRequests?: readonly number[];
  /** Produce answers (1-based) dropped, with both connections cut. */
  dropAnswers?: readonly number[];
}

/** Splits a byte stream into size-prefixed frames. */
function framer(onFrame: (frame: Buffer) => void): (chunk: Buffer) => void {
  let buf: Buffer = Buffer.alloc(0);
  return (chunk) => {
    buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
    while (buf.length >= 4 && buf.length >= 4 + buf.readInt32BE(0)) {
      const size = buf.readInt32BE(0);
      onFrame(buf.subarray(0, 4 + size));
      buf = buf.subarray(4 + size);
    }
  };
}

export class ProduceProxy {
  readonly stats = { requests: 0, answers: 0, outstanding: 0, maxOutstanding: 0, swallowed: 0, dropped: 0 };
  readonly opts: ProduceProxyOptions;
  readonly #server: net.Server;
  readonly #sockets = new Set<net.Socket>();

  constructor(server: net.Server, opts: ProduceProxyOptions) {
    this.#server = server;
    this.opts = opts;
  }

  static async start(listenPort: number, target: number, opts: ProduceProxyOptions): Promise<ProduceProxy> {
    const server = net.createServer();
    const proxy = new ProduceProxy(server, opts);
    server.on('connection', (client) => proxy.#pipe(client, target));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(listenPort, '127.0.0.1', () => resolve());
    });
    return proxy;
  }

  #pipe(client: net.Socket, target: number): void {
    const upstream = net.connect(target, '127.0.0.1');
    for (const s of [client, upstream]) {
      this.#sockets.add(s);
      s.on('close', () => this.#sockets.delete(s));
    }
    const produceIds = new Set<number>();
    let cut = false;
    const cutBoth = (): void => {
      if (cut) return;
      cut = true;
      // Answers this connection still owed are not coming.
      this.stats.outstanding -= produceIds.size;
      produceIds.clear();
      client.destroy();
      upstream.destroy();
    };
    // Answers leave in order, each no earlier than delayMs after it arrived.
    let chain = Promise.resolve();
    client.on('data', framer((frame) => {
      if (frame.length >= 12 && frame.readInt16BE(4) === 0) {
        const n = ++this.stats.requests;
        if (this.opts.swallowRequests?.includes(n)) {
          this.stats.swallowed++;
          return;
        }
        produceIds.add(frame.readInt32BE(8));
        this.stats.outstanding++;
        this.stats.maxOutstanding = Math.max(this.stats.maxOutstanding, this.stats.outstanding);
      }
      upstream.write(frame);
    }));
    upstream.on('data', framer((frame) => {
      const id = frame.readInt32BE(4);
      if (!produceIds.has(id)) {
        chain = chain.then(() => {
          if (!cut) client.write(frame);
        });
        return;
      }
      const n = ++this.stats.answers;
      const arrived = Date.now();
      chain = chain.then(async () => {
        const wait = arrived + (this.opts.delayMs ?? 0) - Date.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        if (cut) return;
        produceIds.delete(id);
        this.stats.outstanding--;
        if (this.opts.dropAnswers?.includes(n)) {
          this.stats.dropped++;
          cutBoth();
          return;
        }
        client.write(frame);
      });
    }));
    for (const s of [client, upstream]) {
      s.on('error', cutBoth);
      s.on('close', cutBoth);
    }
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

export interface ProxiedTestBroker {
  broker: TestBroker;
  proxy: ProduceProxy;
  /** The proxy's address, which the broker also advertises. */
  bootstrap: string;
  close(): Promise<void>;
}

/** A broker that advertises a ProduceProxy in front of it, so the client stays behind the proxy. */
export function startBehindProxy(opts: ProduceProxyOptions, props: Record<string, string> = {}): Promise<ProxiedTestBroker> {
  return startBehind(props, (proxyPort, brokerPort) => ProduceProxy.start(proxyPort, brokerPort, opts));
}
