// Accepts TCP connections and hands each to a Connection. Closing stops accepting and destroys
// every open connection.
import net from 'node:net';
import { Connection, type ConnectionLimits } from './connection.ts';
import type { ApiHandler } from './handler.ts';
import type { Broker } from './broker.ts';

export class Server {
  private readonly server: net.Server;
  private readonly connections = new Set<Connection>();
  private nextId = 1;

  constructor(broker: Broker, handlers: ReadonlyMap<number, ApiHandler>, limits: ConnectionLimits, maxConnections: number, log: (line: string) => void) {
    this.server = net.createServer({ noDelay: true }, (socket) => {
      if (this.connections.size >= maxConnections) {
        socket.destroy();
        return;
      }
      const conn = new Connection(socket, {
        id: this.nextId++,
        remoteAddress: socket.remoteAddress ?? '',
        remotePort: socket.remotePort ?? 0,
        listener: 'PLAINTEXT',
      }, handlers, broker, limits, log);
      this.connections.add(conn);
      socket.on('close', () => this.connections.delete(conn));
    });
  }

  listen(host: string, port: number): Promise<{ host: string; port: number }> {
    return new Promise((resolve, reject) => {
      const onError = (e: Error) => reject(e);
      this.server.once('error', onError);
      this.server.listen(port, host, () => {
        this.server.off('error', onError);
        const addr = this.server.address() as net.AddressInfo;
        resolve({ host: addr.address, port: addr.port });
      });
    });
  }

  close(): Promise<void> {
    for (const c of this.connections) c.close();
    this.connections.clear();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** A port that was free a moment ago on `host` (for listeners configured with port 0). */
export function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, host, () => {
      const port = (probe.address() as net.AddressInfo).port;
      probe.close(() => resolve(port));
    });
  });
}
