// IncrementalAlterConfigs (key 44), versions 0–1 (KIP-339): per-key operations on a resource's
// dynamic overrides — SET (0), DELETE (1), APPEND (2) and SUBTRACT (3), the last two only for
// LIST keys (INVALID_CONFIG otherwise); an unknown operation is INVALID_REQUEST. Resources and
// error rules are AlterConfigs' (33-alter-configs.ts); the operations run in the controller
// (config-control.ts). Not implemented: BROKER_LOGGER resources (8, KIP-412: answered
// INVALID_REQUEST as an unknown type), authorization, AlterConfigPolicy.
import { defineHandler } from '../handler.ts';
import { createIncrementalAlterConfigsResponse } from '../../protocol/generated/incremental-alter-configs-response.ts';
import { alterConfigResources } from './33-alter-configs.ts';

export default defineHandler(44, 0, 1, async (req, ctx) => {
  const resources = req.resources.map((r) => ({
    resourceType: r.resourceType,
    resourceName: r.resourceName,
    ops: r.configs.map((c) => ({ name: c.name, value: c.value, op: c.configOperation })),
  }));
  return createIncrementalAlterConfigsResponse({ responses: await alterConfigResources(ctx, resources, req.validateOnly, true) });
});
