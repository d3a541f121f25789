// Shared fixtures for controller tests: a seeded random source, a static broker config and a
// controller over an in-memory log with some registered brokers.

import { parseBrokerConfig } from '../../src/config/broker-config.ts';
import { Controller, type ControllerOptions } from '../../src/controller/controller.ts';
import { MemoryMetadataLog } from '../../src/controller/memory-metadata-log.ts';
import type { MetadataLog } from '../../src/controller/metadata-log.ts';
import { seeded } from '../helpers/seeded.ts';

export { seeded } from '../helpers/seeded.ts';

export const CLUSTER_ID = 'MkU3OEVBNTcwNTJENDM2Qg';

export function brokerConfig(props: Record<string, string> = {}) {
  return parseBrokerConfig({ 'node.id': '1', ...props });
}

export interface Fixture {
  controller: Controller;
  log: MetadataLog;
}

/**
 * A controller with node 1 as local broker (rack `racks[0]`) and brokers 2..n registered and
 * unfenced with the following racks (null: no rack).
 */
export async function startController(
  opts: { brokers?: number; racks?: (string | null)[]; seed?: number; log?: MetadataLog; props?: Record<string, string> } &
    Partial<ControllerOptions> = {},
): Promise<Fixture> {
  const log = opts.log ?? new MemoryMetadataLog();
  const racks = opts.racks ?? [];
  const controller = await Controller.start({
    nodeId: 1,
    log,
    brokerConfig: brokerConfig(opts.props),
    clusterId: CLUSTER_ID,
    random: seeded(opts.seed ?? 7),
    clock: { now: () => 1_700_000_000_000 },
    localBroker: { listeners: [listener(9092)], rack: racks[0] ?? null },
    ...opts,
  });
  for (let id = 2; id <= (opts.brokers ?? 1); id++) {
    await registerFakeBroker(controller, id, racks[id - 1] ?? null);
  }
  return { controller, log };
}

export function listener(port: number) {
  return { name: 'PLAINTEXT', host: '127.0.0.1', port, securityProtocol: 0 };
}

export async function registerFakeBroker(controller: Controller, id: number, rack: string | null): Promise<void> {
  await controller.registerBroker({
    brokerId: id,
    incarnationId: `00000000-0000-4000-8000-${String(id).padStart(12, '0')}`,
    listeners: [listener(9092 + id)],
    rack,
    fenced: false,
  });
}

export function topic(name: string, numPartitions = 1, replicationFactor = 1, configs: Record<string, string | null> = {}) {
  return {
    name,
    numPartitions,
    replicationFactor,
    assignments: [] as { partitionIndex: number; brokerIds: number[] }[],
    configs: Object.entries(configs).map(([n, value]) => ({ name: n, value })),
  };
}
