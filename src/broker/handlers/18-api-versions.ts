// ApiVersions (key 18), versions 0–4. The advertised ranges are derived from the handler registry.
// v3+ carries the client's software name/version (KIP-511), which must match Kafka's pattern or the
// request gets INVALID_REQUEST. An unknown version is answered by the connection in v0 format with
// UNSUPPORTED_VERSION and the full list, so the client can retry with a version we know.
import { defineHandler, type ApiHandler } from '../handler.ts';
import { Writer } from '../../protocol/writer.ts';
import { ErrorCode } from '../../protocol/errors.ts';
import { createApiVersionsResponse, encodeApiVersionsResponse, type ApiVersion } from '../../protocol/generated/api-versions-response.ts';

const SOFTWARE_PATTERN = /^[a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?$/;

export function advertisedVersions(handlers: ReadonlyMap<number, ApiHandler>): ApiVersion[] {
  return [...handlers.values()]
    .sort((a, b) => a.apiKey - b.apiKey)
    .map((h) => ({ apiKey: h.apiKey, minVersion: h.minVersion, maxVersion: h.maxVersion }));
}

export function apiVersionsFallback(handlers: ReadonlyMap<number, ApiHandler>): Buffer {
  const w = new Writer(256);
  encodeApiVersionsResponse(w, createApiVersionsResponse({ errorCode: ErrorCode.UNSUPPORTED_VERSION, apiKeys: advertisedVersions(handlers) }), 0);
  return w.toBuffer();
}

export default defineHandler(18, 0, 4, (req, ctx) => {
  if (ctx.apiVersion >= 3 && (!SOFTWARE_PATTERN.test(req.clientSoftwareName) || !SOFTWARE_PATTERN.test(req.clientSoftwareVersion))) {
    return createApiVersionsResponse({ errorCode: ErrorCode.INVALID_REQUEST });
  }
  return createApiVersionsResponse({
    apiKeys: advertisedVersions(ctx.broker.handlers),
    finalizedFeaturesEpoch: -1n,
  });
});
