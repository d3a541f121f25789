// Request header v1 (non-flexible APIs) / v2 (flexible: adds tagged fields); response header v0 /
// v1 (flexible). ApiVersions' response header is always v0 so that a client can read the error
// before knowing which versions we speak (KIP-511).
import { Reader } from './reader.ts';
import { Writer } from './writer.ts';
import { API_CODECS } from './generated/api-index.ts';

export interface RequestHeader {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  clientId: string | null;
}

export const API_VERSIONS_KEY = 18;

export function isFlexibleRequest(apiKey: number, version: number): boolean {
  const codec = API_CODECS.get(apiKey);
  return codec !== undefined && codec.requestFlexibleMin !== null && version >= codec.requestFlexibleMin;
}

export function isFlexibleResponse(apiKey: number, version: number): boolean {
  if (apiKey === API_VERSIONS_KEY) return false;
  const codec = API_CODECS.get(apiKey);
  return codec !== undefined && codec.responseFlexibleMin !== null && version >= codec.responseFlexibleMin;
}

/** Reads the fixed part (key, version, correlation id, client id). Tagged fields are read separately. */
export function readRequestHeader(r: Reader): RequestHeader {
  const apiKey = r.readInt16();
  const apiVersion = r.readInt16();
  const correlationId = r.readInt32();
  const clientId = r.readNullableString();
  return { apiKey, apiVersion, correlationId, clientId };
}

export function writeResponseHeader(w: Writer, correlationId: number, flexible: boolean): void {
  w.writeInt32(correlationId);
  if (flexible) w.writeUVarint(0);
}

export function writeRequestHeader(w: Writer, h: RequestHeader, flexible: boolean): void {
  w.writeInt16(h.apiKey);
  w.writeInt16(h.apiVersion);
  w.writeInt32(h.correlationId);
  w.writeNullableString(h.clientId);
  if (flexible) w.writeUVarint(0);
}
