// Parsing of the address-valued keys: listeners / advertised.listeners
// (`NAME://host:port`, IPv6 hosts in brackets, empty host = every interface, port 0 = any free
// port), listener.security.protocol.map (`NAME:PROTOCOL`), controller.quorum.voters
// (`id@host:port`, KIP-595) and controller.quorum.bootstrap.servers (`host:port`, KIP-853).
// Listener names are case-insensitive in Kafka and kept upper-case here.

import { InvalidValue } from './config-def.ts';

export type SecurityProtocol = 'PLAINTEXT' | 'SSL' | 'SASL_PLAINTEXT' | 'SASL_SSL';
export const SECURITY_PROTOCOLS: readonly SecurityProtocol[] = ['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'];

export interface Listener {
  /** Upper-case listener name, e.g. PLAINTEXT, CONTROLLER, INTERNAL. */
  name: string;
  /** '' means every interface. IPv6 addresses are given without brackets. */
  host: string;
  port: number;
}

export interface Voter {
  id: number;
  host: string;
  port: number;
}

export interface HostPort {
  host: string;
  port: number;
}

function parsePort(text: string, what: string): number {
  if (!/^\d{1,5}$/.test(text) || Number(text) > 65535) {
    throw new InvalidValue(`${what}: "${text}" is not a port (0..65535)`);
  }
  return Number(text);
}

/** `host:port`, `[v6]:port` or `:port`. */
export function parseHostPort(text: string, what = 'address'): HostPort {
  const t = text.trim();
  let host: string;
  let portText: string;
  if (t.startsWith('[')) {
    const close = t.indexOf(']');
    if (close < 0 || t[close + 1] !== ':') throw new InvalidValue(`${what}: "${t}" is not [ipv6]:port`);
    host = t.slice(1, close);
    portText = t.slice(close + 2);
  } else {
    const colon = t.lastIndexOf(':');
    if (colon < 0) throw new InvalidValue(`${what}: "${t}" has no port (expected host:port)`);
    host = t.slice(0, colon);
    portText = t.slice(colon + 1);
    if (host.includes(':')) throw new InvalidValue(`${what}: "${t}" — put IPv6 addresses in brackets, e.g. [::1]:9092`);
  }
  if (!/^[0-9A-Za-z._%:-]*$/.test(host)) throw new InvalidValue(`${what}: "${host}" is not a host name or address`);
  return { host, port: parsePort(portText, what) };
}

export function formatHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

export function parseListener(text: string): Listener {
  const t = text.trim();
  const sep = t.indexOf('://');
  if (sep <= 0) throw new InvalidValue(`"${t}" is not a listener (expected NAME://host:port)`);
  const name = t.slice(0, sep).toUpperCase();
  if (!/^[A-Z0-9_]+$/.test(name)) throw new InvalidValue(`"${t}": listener name may hold only letters, digits and _`);
  const { host, port } = parseHostPort(t.slice(sep + 3), `listener ${name}`);
  return { name, host, port };
}

export function formatListener(l: Listener): string {
  return `${l.name}://${formatHostPort(l.host, l.port)}`;
}

/** Parses a listener list; names must be unique, and so must non-zero ports on the same host. */
export function parseListeners(items: readonly string[]): Listener[] {
  const out = items.filter((s) => s !== '').map(parseListener);
  const names = new Set<string>();
  const ports = new Set<number>();
  for (const l of out) {
    if (names.has(l.name)) throw new InvalidValue(`listener name ${l.name} appears twice`);
    names.add(l.name);
    if (l.port !== 0) {
      if (ports.has(l.port)) throw new InvalidValue(`port ${l.port} is used by two listeners`);
      ports.add(l.port);
    }
  }
  return out;
}

export function parseSecurityProtocolMap(items: readonly string[]): Map<string, SecurityProtocol> {
  const map = new Map<string, SecurityProtocol>();
  for (const item of items) {
    if (item === '') continue;
    const colon = item.indexOf(':');
    if (colon <= 0) throw new InvalidValue(`"${item}" is not NAME:PROTOCOL`);
    const name = item.slice(0, colon).trim().toUpperCase();
    const proto = item.slice(colon + 1).trim().toUpperCase();
    if (!(SECURITY_PROTOCOLS as readonly string[]).includes(proto)) {
      throw new InvalidValue(`"${proto}" is not a security protocol (${SECURITY_PROTOCOLS.join(', ')})`);
    }
    if (map.has(name)) throw new InvalidValue(`listener ${name} is mapped twice`);
    map.set(name, proto as SecurityProtocol);
  }
  return map;
}

export function parseVoters(items: readonly string[]): Voter[] {
  const out: Voter[] = [];
  for (const item of items) {
    if (item === '') continue;
    const at = item.indexOf('@');
    if (at <= 0 || !/^\d+$/.test(item.slice(0, at))) throw new InvalidValue(`"${item}" is not id@host:port`);
    const id = Number(item.slice(0, at));
    const { host, port } = parseHostPort(item.slice(at + 1), `voter ${id}`);
    if (host === '') throw new InvalidValue(`voter ${id} has no host`);
    if (out.some((v) => v.id === id)) throw new InvalidValue(`voter ${id} appears twice`);
    out.push({ id, host, port });
  }
  return out;
}

export function parseBootstrapServers(items: readonly string[]): HostPort[] {
  return items.filter((s) => s !== '').map((s) => {
    const hp = parseHostPort(s, 'bootstrap server');
    if (hp.host === '') throw new InvalidValue(`bootstrap server "${s}" has no host`);
    return hp;
  });
}
