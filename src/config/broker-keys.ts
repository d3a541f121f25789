// The full set of broker keys, and the type-level mapping from a key name to its value type
// (`BrokerValue<'num.partitions'>` is `number`).

import type { KeyDef } from './config-def.ts';
import { COORDINATOR_KEYS } from './keys-coordinator.ts';
import { LOG_KEYS } from './keys-log.ts';
import { SERVER_KEYS } from './keys-server.ts';

export const BROKER_KEYS = Object.freeze({ ...SERVER_KEYS, ...LOG_KEYS, ...COORDINATOR_KEYS });

export type BrokerKeys = typeof BROKER_KEYS;
export type BrokerKey = keyof BrokerKeys;
export type BrokerValue<K extends BrokerKey> = BrokerKeys[K] extends KeyDef<infer T> ? T : never;

export function isBrokerKey(name: string): name is BrokerKey {
  return Object.hasOwn(BROKER_KEYS, name);
}

export function brokerKeyDef(name: BrokerKey): KeyDef<unknown> {
  return BROKER_KEYS[name] as KeyDef<unknown>;
}

/** All broker key names, sorted. */
export const BROKER_KEY_NAMES: readonly BrokerKey[] = Object.freeze((Object.keys(BROKER_KEYS) as BrokerKey[]).sort());
