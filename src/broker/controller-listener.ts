// The CONTROLLER listener (controller.listener.names): a second server with its own handler
// registry, for the traffic between Brook nodes — the KRaft RPCs of the metadata quorum (Vote,
// BeginQuorumEpoch, EndQuorumEpoch, Fetch of __cluster_metadata-0, FetchSnapshot,
// DescribeQuorum), the broker lifecycle (BrokerRegistration, BrokerHeartbeat) and the admin
// operations other nodes forward to the active controller. Client APIs (Produce, the client
// Fetch, groups, ...) are not served here; ApiVersions lists what is.
import { defineHandler, type ApiHandler } from './handler.ts';
import { createApiVersionsResponse } from '../protocol/generated/api-versions-response.ts';
import { advertisedVersions } from './handlers/18-api-versions.ts';
import { describeQuorumLocal } from './handlers/55-describe-quorum.ts';
import { RAFT_HANDLERS } from './controller-handlers/raft-rpcs.ts';
import { BROKER_HANDLERS } from './controller-handlers/broker-rpcs.ts';
import { FORWARDED_HANDLERS } from './controller-handlers/forwarded-admin.ts';
import { Server } from './server.ts';
import type { Broker } from './broker.ts';

function buildRegistry(): ReadonlyMap<number, ApiHandler> {
  const registry = new Map<number, ApiHandler>();
  const apiVersions = defineHandler(18, 0, 4, () => createApiVersionsResponse({ apiKeys: advertisedVersions(registry), finalizedFeaturesEpoch: -1n }));
  for (const h of [apiVersions, ...RAFT_HANDLERS, describeQuorumLocal, ...BROKER_HANDLERS, ...FORWARDED_HANDLERS]) {
    if (registry.has(h.apiKey)) throw new Error(`controller listener: api ${h.apiKey} registered twice`);
    registry.set(h.apiKey, h);
  }
  return registry;
}

export const CONTROLLER_HANDLERS: ReadonlyMap<number, ApiHandler> = buildRegistry();

export interface ControllerListener {
  host: string;
  port: number;
  close(): Promise<void>;
}

/** Starts the controller listener on `host:port`. */
export async function startControllerListener(broker: Broker, host: string, port: number, log: (line: string) => void): Promise<ControllerListener> {
  // Node-to-node connections hold long-polling fetches: no idle timeout, no SASL on this listener.
  const server = new Server(broker, CONTROLLER_HANDLERS, { requireAuthentication: false, idleTimeoutMs: 0 }, broker.settings.maxConnections, log);
  const addr = await server.listen(host, port);
  return { host: addr.host, port: addr.port, close: () => server.close() };
}
