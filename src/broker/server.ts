// Accepts TCP connections and hands each to a Connection. A new connection over max.connections or
// max.connections.per.ip (and its overrides) is closed at once; both keys are dynamic and follow
// AlterConfigs. One periodic sweep closes slow senders (a frame started more than
// brook.connection.receive.timeout.ms ago and still incomplete). Closing stops accepting and
// destroys every open connection.
import net from 'node:net';
import { Connection, type ConnectionState } from './connection.ts';
import type { ApiHandler } from './handler.ts';
import type { Broker } from './broker.ts';
import {
  ConnectionAdmission, RateLimitedLog, limitsFromSettings, sweepIntervalMs,
  type AdmissionLimits, type ConnectionLimits,
} from './limits.ts';
import { parseConnectionOverrides } from '../config/keys-server.ts';
import { FramePool } from './frame-pool.ts';

/** Idle pooled frame memory kept for reuse, all connections together. */
const FRAME_POOL_BYTES = 64 * 1024 * 1024;

export class Server {
  private readonly server: net.Server;
  private readonly connections = new Set<Connection>();
  private readonly admission: ConnectionAdmission;
  private readonly connLog: RateLimitedLog;
  private readonly sweeper: ReturnType<typeof setInterval>;
  private readonly broker: Broker;
  private nextId = 1;
  private closing = false;
  /** Connections refused since start, by the limit that refused them. */
  readonly refused = { 'max.connections': 0, 'max.connections.per.ip': 0 };
  /** Memory for large Produce frames, shared by all connections. */
  readonly framePool = new FramePool(FRAME_POOL_BYTES);

  /**
   * `limits` overrides the per-connection limits taken from broker.settings; `maxConnections`
   * overrides max.connections until a metadata update brings the dynamic value.
   */
  constructor(broker: Broker, handlers: ReadonlyMap<number, ApiHandler>, limits: Partial<ConnectionLimits>, maxConnections: number, log: (line: string) => void) {
    this.broker = broker;
    const connLimits: ConnectionLimits = { ...limitsFromSettings(broker.settings), ...limits };
    this.admission = new ConnectionAdmission({
      maxConnections,
      maxConnectionsPerIp: broker.settings.maxConnectionsPerIp,
      perIpOverrides: broker.settings.maxConnectionsPerIpOverrides,
    });
    this.connLog = new RateLimitedLog(log);
    const connectionLog = (line: string) => this.connLog.line(line);
    // pauseOnConnect: nothing is read before the connection adopts the socket (socket-adopt.ts).
    this.server = net.createServer({ noDelay: true, pauseOnConnect: true }, (socket) => {
      const address = socket.remoteAddress;
      if (this.closing || address === undefined) {
        socket.destroy();
        return;
      }
      const refusal = this.admission.admit(address);
      if (refusal !== null) {
        this.refused[refusal]++;
        this.connLog.line(`connection from ${address} refused: ${refusal} reached`);
        socket.destroy();
        return;
      }
      const conn = new Connection(socket, {
        id: this.nextId++,
        remoteAddress: address,
        remotePort: socket.remotePort ?? 0,
        listener: broker.settings.listenerName,
      }, handlers, broker, connLimits, connectionLog, this.framePool);
      this.connections.add(conn);
      conn.socket.on('close', () => {
        if (this.connections.delete(conn)) this.admission.release(address);
      });
    });
    const timeout = connLimits.receiveTimeoutMs;
    this.sweeper = setInterval(() => this.sweep(), sweepIntervalMs(timeout));
    this.sweeper.unref();
    broker.onApplied(() => this.reloadDynamic());
  }

  private sweep(): void {
    const now = performance.now();
    for (const c of this.connections) {
      if (c.receiveExpired(now)) c.close('request frame not complete within brook.connection.receive.timeout.ms (slow sender)');
    }
    this.connLog.tick();
  }

  /** max.connections, max.connections.per.ip and the overrides are dynamic broker configs. */
  private reloadDynamic(): void {
    if (this.closing) return;
    try {
      const c = this.broker.effectiveConfig();
      this.admission.update({
        maxConnections: c.get('max.connections'),
        maxConnectionsPerIp: c.get('max.connections.per.ip'),
        perIpOverrides: parseConnectionOverrides(c.get('max.connections.per.ip.overrides')),
      });
    } catch (e) {
      this.broker.log(`connection limits not updated: ${(e as Error)?.message ?? e}`);
    }
  }

  /** Replaces the connection-count limits (tests; dynamic config goes through reloadDynamic). */
  setAdmissionLimits(limits: AdmissionLimits): void {
    this.admission.update(limits);
  }

  get connectionCount(): number {
    return this.admission.open;
  }

  connectionsFrom(address: string): number {
    return this.admission.openFrom(address);
  }

  /** What each open connection holds (tests and diagnostics). */
  connectionStates(): ConnectionState[] {
    return [...this.connections].map((c) => c.state());
  }

  listen(host: string, port: number): Promise<{ host: string; port: number }> {
    return new Promise((resolve, reject) => {
      const onError = (e: Error) => reject(e);
      this.server.once('error', onError);
      this.server.listen(port, host, () => {
        this.server.off('error', onError);
        // Once listening, a failed accept (EMFILE when out of file descriptors) must not become an
        // uncaught 'error' event that ends the process: log it and keep serving.
        this.server.on('error', (e) => this.connLog.line(`listener error: ${e.message}`));
        const addr = this.server.address() as net.AddressInfo;
        resolve({ host: addr.address, port: addr.port });
      });
    });
  }

  close(): Promise<void> {
    this.closing = true;
    clearInterval(this.sweeper);
    for (const c of this.connections) c.close();
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
