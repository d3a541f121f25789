// Limits on what one client can make the broker hold or do, and the bookkeeping behind them.
//
// Per connection (enforced in connection.ts): the frame size is checked before anything is
// allocated (socket.request.max.bytes, or sasl.server.max.receive.size until a SASL listener's
// connection has authenticated); at most maxInFlight requests and about one maximum-size frame of
// request bytes are worked on at once; reading stops while too many response bytes wait for the
// client; a started frame must be complete within receiveTimeoutMs (slow senders); a connection with
// no traffic for idleTimeoutMs is closed. Per broker (enforced in server.ts): max.connections and
// max.connections.per.ip (with overrides) are checked when a connection is accepted.
//
// Nothing here arms a timer per request: the receive deadline is one timestamp per connection,
// checked by one sweep over all connections (as Kafka's Selector checks idle channels on poll).
import type { BrokerSettings } from './settings.ts';
import { normalizeIp } from '../config/keys-server.ts';

export interface ConnectionLimits {
  /** socket.request.max.bytes: larger (or negative) size prefixes close the connection. */
  maxRequestBytes: number;
  /** sasl.server.max.receive.size: the frame limit before authentication. */
  maxUnauthenticatedRequestBytes: number;
  /** Connections start unauthenticated (the listener requires SASL). */
  requireAuthentication: boolean;
  maxInFlight: number;
  maxBufferedResponseBytes: number;
  /** connections.max.idle.ms; 0 disables. */
  idleTimeoutMs: number;
  /** A started frame must be complete within this; 0 disables. */
  receiveTimeoutMs: number;
}

export function limitsFromSettings(s: BrokerSettings): ConnectionLimits {
  return {
    maxRequestBytes: s.maxRequestBytes,
    maxUnauthenticatedRequestBytes: Math.min(s.maxUnauthenticatedRequestBytes, s.maxRequestBytes),
    requireAuthentication: s.requireAuthentication,
    maxInFlight: s.maxInFlightPerConnection,
    maxBufferedResponseBytes: s.maxBufferedResponseBytes,
    idleTimeoutMs: s.idleTimeoutMs,
    receiveTimeoutMs: s.receiveTimeoutMs,
  };
}

/**
 * What a handler may learn and change about the security state of its connection. Until SASL
 * exists every connection starts authenticated; on a listener that requires SASL a connection starts
 * unauthenticated, may only send ApiVersions, SaslHandshake and SaslAuthenticate, and its frames are
 * limited to sasl.server.max.receive.size until the SASL handler calls authenticate().
 */
export interface ConnectionAuth {
  readonly authenticated: boolean;
  authenticate(): void;
}

/** API keys a connection may use before it has authenticated (as Kafka's SaslServerAuthenticator). */
export const PRE_AUTH_API_KEYS: ReadonlySet<number> = new Set([17, 18, 36]);

export interface AdmissionLimits {
  maxConnections: number;
  maxConnectionsPerIp: number;
  /** Normalized IP → its own limit (max.connections.per.ip.overrides). */
  perIpOverrides: ReadonlyMap<string, number>;
}

export type Refusal = 'max.connections' | 'max.connections.per.ip';

/**
 * Counts open connections, in total and per source address. Kafka closes a connection over
 * max.connections.per.ip at once; for max.connections it stops accepting until one closes — Brook
 * closes the new connection in both cases, which frees the socket sooner.
 */
export class ConnectionAdmission {
  private limits: AdmissionLimits;
  private total = 0;
  private readonly perIp = new Map<string, number>();

  constructor(limits: AdmissionLimits) {
    this.limits = limits;
  }

  update(limits: AdmissionLimits): void {
    this.limits = limits;
  }

  /** Counts the connection in and returns null, or returns why it must be refused (not counted). */
  admit(address: string): Refusal | null {
    if (this.total >= this.limits.maxConnections) return 'max.connections';
    const ip = normalizeIp(address);
    const open = this.perIp.get(ip) ?? 0;
    const limit = this.limits.perIpOverrides.get(ip) ?? this.limits.maxConnectionsPerIp;
    if (open >= limit) return 'max.connections.per.ip';
    this.perIp.set(ip, open + 1);
    this.total++;
    return null;
  }

  release(address: string): void {
    const ip = normalizeIp(address);
    const open = this.perIp.get(ip);
    if (open === undefined) return;
    if (open <= 1) this.perIp.delete(ip);
    else this.perIp.set(ip, open - 1);
    this.total--;
  }

  get open(): number {
    return this.total;
  }

  openFrom(address: string): number {
    return this.perIp.get(normalizeIp(address)) ?? 0;
  }
}

/**
 * At most `perSecond` lines a second; the rest are counted and reported in one line later, so a
 * flood of bad connections cannot flood the log.
 */
export class RateLimitedLog {
  private readonly log: (line: string) => void;
  private readonly perSecond: number;
  private windowStart = 0;
  private inWindow = 0;
  private suppressed = 0;

  constructor(log: (line: string) => void, perSecond = 20) {
    this.log = log;
    this.perSecond = perSecond;
  }

  line(text: string): void {
    const now = performance.now();
    if (now - this.windowStart >= 1000) this.rollover(now);
    if (this.inWindow < this.perSecond) {
      this.inWindow++;
      this.log(text);
    } else {
      this.suppressed++;
    }
  }

  /** Reports suppressed lines once their window is over (called from the periodic sweep). */
  tick(): void {
    const now = performance.now();
    if (now - this.windowStart >= 1000) this.rollover(now);
  }

  private rollover(now: number): void {
    if (this.suppressed > 0) this.log(`(${this.suppressed} similar connection log lines suppressed)`);
    this.suppressed = 0;
    this.inWindow = 0;
    this.windowStart = now;
  }
}

/** How often the sweep runs for a receive timeout: often enough to close a slow sender near its deadline. */
export function sweepIntervalMs(receiveTimeoutMs: number): number {
  if (receiveTimeoutMs <= 0) return 1000;
  return Math.max(5, Math.min(1000, Math.floor(receiveTimeoutMs / 4)));
}
