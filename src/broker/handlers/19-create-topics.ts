// CreateTopics (key 19), versions 0–7. Validation and placement are the controller's
// (topic-control.ts): per-topic error codes with messages (v1+), -1 partitions / replication
// factor for the broker defaults (KIP-464), validate_only (v1+). v5+ answers with the created
// topic's partition count, replication factor and every config with its source (KIP-525); v7 with
// the topic id (KIP-516). timeout_ms bounds the wait for the controller: past it each topic is
// answered REQUEST_TIMED_OUT (the creation may still complete); 0 or less waits without bound.
// Not implemented: authorization, CreateTopicPolicy, the topic_config_error_code tagged field
// (always 0: the configs come from the same validation that created the topic).
import { defineHandler } from '../handler.ts';
import { ErrorCode, KafkaError } from '../../protocol/errors.ts';
import { createCreateTopicsResponse, createCreatableTopicResult } from '../../protocol/generated/create-topics-response.ts';
import type { Broker } from '../broker.ts';

/**
 * Runs a controller operation, bounded by a request's timeout_ms when positive. Resolves with the
 * result, or with the KafkaError every item of the request should carry (REQUEST_TIMED_OUT, or the
 * controller's own refusal); an unexpected failure is logged and becomes UNKNOWN_SERVER_ERROR.
 */
export async function callController<T>(broker: Broker, what: string, timeoutMs: number, op: () => Promise<T>): Promise<T | KafkaError> {
  let timer: NodeJS.Timeout | undefined;
  // Answer only once the local logs exist, so a client can produce right after (single node: the
  // controller's image is applied by this same process).
  const attempt = op().then(async (r) => {
    await broker.whenApplied();
    return r;
  }).catch((e: unknown) => {
    if (e instanceof KafkaError) return e;
    broker.log(`${what} failed in the controller: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    return new KafkaError(ErrorCode.UNKNOWN_SERVER_ERROR, `${what} failed in the controller.`);
  });
  if (timeoutMs <= 0) return attempt;
  const timeout = new Promise<KafkaError>((resolve) => {
    timer = setTimeout(() => resolve(new KafkaError(ErrorCode.REQUEST_TIMED_OUT, `The controller did not finish ${what} within ${timeoutMs} ms.`)), timeoutMs);
    timer.unref();
  });
  try {
    return await Promise.race([attempt, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export default defineHandler(19, 0, 7, async (req, ctx) => {
  const outcome = await callController(ctx.broker, 'creating topics', req.timeoutMs, () => ctx.broker.controller.createTopics(
    req.topics.map((t) => ({
      name: t.name,
      numPartitions: t.numPartitions,
      replicationFactor: t.replicationFactor,
      assignments: t.assignments.map((a) => ({ partitionIndex: a.partitionIndex, brokerIds: a.brokerIds })),
      configs: t.configs.map((c) => ({ name: c.name, value: c.value })),
    })),
    { validateOnly: req.validateOnly },
  ));
  if (outcome instanceof KafkaError) {
    const names = [...new Set(req.topics.map((t) => t.name))];
    return createCreateTopicsResponse({
      topics: names.map((name) => createCreatableTopicResult({
        name, errorCode: outcome.code, errorMessage: outcome.message, numPartitions: -1, replicationFactor: -1,
      })),
    });
  }
  return createCreateTopicsResponse({
    topics: outcome.map((r) => createCreatableTopicResult({
      name: r.name,
      topicId: r.topicId,
      errorCode: r.errorCode,
      errorMessage: r.errorMessage,
      numPartitions: r.numPartitions,
      replicationFactor: r.replicationFactor,
      configs: r.configs.map((c) => ({ ...c })),
    })),
  });
});
