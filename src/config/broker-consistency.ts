// Checks across broker keys, run on every BrokerConfig (startup and dynamic updates). They follow
// KafkaConfig's KRaft validation, with one Brook extension: a controller with no voters and no
// bootstrap servers is a standalone single-node quorum and needs no controller listener.

import { ConfigProblem } from './config-def.ts';
import type { BrokerConfig } from './broker-config.ts';
import type { SecurityProtocol } from './listeners.ts';

/** Protocols Brook's network server speaks today. */
export const SUPPORTED_PROTOCOLS: readonly SecurityProtocol[] = ['PLAINTEXT'];

const WILDCARD_HOSTS = new Set(['0.0.0.0', '::', '0:0:0:0:0:0:0:0']);

function fail(key: string, message: string): never {
  throw new ConfigProblem('inconsistent', key, message);
}

export function checkBrokerConsistency(c: BrokerConfig, advertisedSet: boolean): void {
  const listenerNames = new Set(c.listeners.map((l) => l.name));
  const controllerNames = new Set(c.controllerListenerNames);

  for (const l of c.listeners) {
    const proto = c.securityProtocolMap.get(l.name) ?? (SUPPORTED_PROTOCOLS.includes(l.name as SecurityProtocol) ? l.name : undefined);
    if (proto === undefined) {
      fail('listener.security.protocol.map', `listener ${l.name} has no security protocol in 'listener.security.protocol.map'`);
    }
    if (!SUPPORTED_PROTOCOLS.includes(proto as SecurityProtocol)) {
      fail('listeners', `listener ${l.name} uses ${proto}; Brook supports only ${SUPPORTED_PROTOCOLS.join(', ')} listeners`);
    }
  }

  if (c.isController && !c.standaloneQuorum) {
    const first = c.controllerListenerNames[0];
    if (first === undefined) fail('controller.listener.names', `'controller.listener.names' must name a listener when 'process.roles' includes controller`);
    if (!listenerNames.has(first)) {
      fail('controller.listener.names', `controller listener ${first} is not in 'listeners'`);
    }
    if (c.quorumVoters.length > 0 && !c.quorumVoters.some((v) => v.id === c.nodeId)) {
      fail('controller.quorum.voters', `node ${c.nodeId} has the controller role but is not in 'controller.quorum.voters'`);
    }
  }

  if (c.isBroker) {
    if (!c.isController && c.quorumVoters.length === 0 && c.quorumBootstrapServers.length === 0) {
      fail('controller.quorum.voters', `a broker-only node needs 'controller.quorum.voters' or 'controller.quorum.bootstrap.servers'`);
    }
    if (!c.isController) {
      const clash = c.listeners.find((l) => controllerNames.has(l.name));
      if (clash) fail('listeners', `listener ${clash.name} is a controller listener, but this node has only the broker role`);
    }
    const ibl = c.interBrokerListenerName;
    if (ibl === null) fail('listeners', `'listeners' has no listener for clients (only controller listeners)`);
    if (!listenerNames.has(ibl)) fail('inter.broker.listener.name', `inter-broker listener ${ibl} is not in 'listeners'`);
    if (controllerNames.has(ibl)) fail('inter.broker.listener.name', `inter-broker listener ${ibl} cannot be a controller listener`);
    for (const l of c.advertisedListeners) {
      if (!listenerNames.has(l.name)) fail('advertised.listeners', `advertised listener ${l.name} is not in 'listeners'`);
      if (WILDCARD_HOSTS.has(l.host)) {
        fail(advertisedSet ? 'advertised.listeners' : 'listeners',
          `listener ${l.name} would advertise ${l.host}, which clients cannot connect to; ` +
          `set 'advertised.listeners' (e.g. ${l.name}://<reachable host>:${l.port}) or leave the listener host empty`);
      }
    }
  }

  const minSession = c.get('group.min.session.timeout.ms');
  if (minSession > c.get('group.max.session.timeout.ms')) {
    fail('group.min.session.timeout.ms', `'group.min.session.timeout.ms' (${minSession}) exceeds 'group.max.session.timeout.ms'`);
  }
  const minLag = c.get('log.cleaner.min.compaction.lag.ms');
  if (minLag > c.get('log.cleaner.max.compaction.lag.ms')) {
    fail('log.cleaner.min.compaction.lag.ms', `'log.cleaner.min.compaction.lag.ms' (${minLag}) exceeds 'log.cleaner.max.compaction.lag.ms'`);
  }
}
