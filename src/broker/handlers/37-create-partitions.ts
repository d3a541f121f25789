// CreatePartitions (key 37), versions 0–3 (KIP-195): grows topics; the controller validates and
// places the new partitions (partition-control.ts). Per-topic errors with messages;
// validate_only; timeout_ms bounds the wait for the controller (REQUEST_TIMED_OUT past it).
// Not implemented: authorization, CreateTopicPolicy.
import { defineHandler } from '../handler.ts';
import { KafkaError } from '../../protocol/errors.ts';
import { createCreatePartitionsResponse } from '../../protocol/generated/create-partitions-response.ts';
import { callController } from './19-create-topics.ts';

export default defineHandler(37, 0, 3, async (req, ctx) => {
  const outcome = await callController(ctx.broker, 'creating partitions', req.timeoutMs, () => ctx.broker.controller.createPartitions(
    req.topics.map((t) => ({
      name: t.name,
      count: t.count,
      assignments: t.assignments === null ? null : t.assignments.map((a) => a.brokerIds),
    })),
    req.validateOnly,
  ));
  if (outcome instanceof KafkaError) {
    const names = [...new Set(req.topics.map((t) => t.name))];
    return createCreatePartitionsResponse({
      results: names.map((name) => ({ name, errorCode: outcome.code, errorMessage: outcome.message })),
    });
  }
  return createCreatePartitionsResponse({
    results: outcome.map((r) => ({ name: r.name, errorCode: r.errorCode, errorMessage: r.errorMessage })),
  });
});
