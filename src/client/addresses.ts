// Broker addresses as people write them: `host:port`, `[v6addr]:port`, a bare host (port 9092),
// comma-separated lists, optionally with a listener scheme as in `PLAINTEXT://host:port`.

export interface BrokerAddress {
  host: string;
  port: number;
}

export const DEFAULT_PORT = 9092;

export class AddressError extends Error {
  override name = 'AddressError';
}

export function parseBrokerAddress(text: string): BrokerAddress {
  let s = text.trim();
  const scheme = s.indexOf('://');
  if (scheme >= 0) s = s.slice(scheme + 3);
  if (s === '') throw new AddressError(`empty broker address in '${text}'`);
  let host: string;
  let portText: string | undefined;
  if (s.startsWith('[')) {
    const close = s.indexOf(']');
    if (close < 0) throw new AddressError(`unclosed '[' in broker address '${text}'`);
    host = s.slice(1, close);
    const rest = s.slice(close + 1);
    if (rest !== '' && !rest.startsWith(':')) throw new AddressError(`unexpected '${rest}' after ']' in '${text}'`);
    portText = rest === '' ? undefined : rest.slice(1);
  } else {
    const colon = s.lastIndexOf(':');
    if (colon >= 0 && s.indexOf(':') !== colon) {
      // A bare IPv6 address: no port.
      host = s;
    } else if (colon >= 0) {
      host = s.slice(0, colon);
      portText = s.slice(colon + 1);
    } else {
      host = s;
    }
  }
  if (host === '') throw new AddressError(`missing host in broker address '${text}'`);
  let port = DEFAULT_PORT;
  if (portText !== undefined) {
    if (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) {
      throw new AddressError(`bad port '${portText}' in broker address '${text}'`);
    }
    port = Number(portText);
  }
  return { host, port };
}

/** Parses `a:1,b:2` (or an array of such strings) into addresses, dropping duplicates. */
export function parseBrokerList(list: string | readonly string[]): BrokerAddress[] {
  const items = (typeof list === 'string' ? [list] : list).flatMap((s) => s.split(',')).map((s) => s.trim()).filter((s) => s !== '');
  if (items.length === 0) throw new AddressError('no broker addresses given');
  const seen = new Set<string>();
  const out: BrokerAddress[] = [];
  for (const item of items) {
    const a = parseBrokerAddress(item);
    const key = formatAddress(a);
    if (!seen.has(key)) {
      seen.add(key);
      out.push(a);
    }
  }
  return out;
}

export function formatAddress(a: BrokerAddress): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}
