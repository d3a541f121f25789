// DescribeConfigs (key 32), versions 0–4. Topic (2) and broker (4) resources with every key's
// effective value and source (KIP-226; v0 reports is_default instead), synonyms when
// include_synonyms (v1+), config type and documentation when include_documentation (v3+, KIP-569).
// configuration_keys null or empty means every key (as Kafka reads it). Broker resource "" lists
// only the cluster-wide dynamic defaults; another node's id is INVALID_REQUEST, as Kafka answers.
// Sensitive values are null.
// Not implemented: BROKER_LOGGER (8) resources (INVALID_REQUEST), authorization.
import { defineHandler } from '../handler.ts';
import { ErrorCode } from '../../protocol/errors.ts';
import { createDescribeConfigsResponse, createDescribeConfigsResult } from '../../protocol/generated/describe-configs-response.ts';
import { describeResource } from '../config-describe.ts';

export default defineHandler(32, 0, 4, (req, ctx) => {
  const broker = ctx.broker;
  const image = broker.image;
  const opts = { apiVersion: ctx.apiVersion, includeSynonyms: req.includeSynonyms, includeDocumentation: req.includeDocumentation };
  return createDescribeConfigsResponse({
    results: req.resources.map((r) => {
      try {
        return describeResource(image, broker.config, broker.settings.nodeId, r.resourceType, r.resourceName, { ...opts, keys: r.configurationKeys });
      } catch (e) {
        broker.log(`describing configs of ${r.resourceType}:${r.resourceName} failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
        return createDescribeConfigsResult({
          resourceType: r.resourceType, resourceName: r.resourceName,
          errorCode: ErrorCode.UNKNOWN_SERVER_ERROR, errorMessage: 'describing this resource failed', configs: [],
        });
      }
    }),
  });
});
