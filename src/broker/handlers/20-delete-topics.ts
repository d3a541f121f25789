// DeleteTopics (key 20), versions 0–6: by name (topic_names, v0–5) or by name or id (topics, v6,
// KIP-516). With delete.topic.enable=false every topic is refused: TOPIC_DELETION_DISABLED from
// v3, INVALID_REQUEST before (the code did not exist), as Kafka does. A v6 entry must carry exactly
// one of name and id; a name or id given twice, or a name whose id is also given, is
// INVALID_REQUEST. Unknown names are UNKNOWN_TOPIC_OR_PARTITION, unknown ids UNKNOWN_TOPIC_ID.
// timeout_ms bounds the wait for the controller (REQUEST_TIMED_OUT past it).
// Not implemented: authorization.
import { defineHandler } from '../handler.ts';
import { ErrorCode, KafkaError } from '../../protocol/errors.ts';
import { NULL_UUID } from '../../protocol/reader.ts';
import { createDeleteTopicsResponse, type DeletableTopicResult } from '../../protocol/generated/delete-topics-response.ts';
import type { DeleteTopicsRequest } from '../../protocol/generated/delete-topics-request.ts';
import { callController } from './19-create-topics.ts';

const result = (name: string | null, topicId: string, errorCode: number, errorMessage: string | null): DeletableTopicResult =>
  ({ name, topicId, errorCode, errorMessage });

/** Sorts the request's entries into names and ids to delete, answering malformed ones at once. */
function sortOut(req: DeleteTopicsRequest, version: number, topicIdOf: (name: string) => string | undefined) {
  const entries = version >= 6 ? req.topics : req.topicNames.map((name) => ({ name, topicId: NULL_UUID }));
  const answered: DeletableTopicResult[] = [];
  const nameCount = new Map<string, number>();
  const idCount = new Map<string, number>();
  for (const e of entries) {
    if (e.name === null && e.topicId === NULL_UUID) {
      answered.push(result(null, NULL_UUID, ErrorCode.INVALID_REQUEST, 'Neither topic name nor id were specified.'));
    } else if (e.name !== null && e.topicId !== NULL_UUID) {
      answered.push(result(e.name, e.topicId, ErrorCode.INVALID_REQUEST, 'You may not specify both topic name and topic id.'));
    } else if (e.name !== null) {
      nameCount.set(e.name, (nameCount.get(e.name) ?? 0) + 1);
    } else {
      idCount.set(e.topicId, (idCount.get(e.topicId) ?? 0) + 1);
    }
  }
  const names: string[] = [];
  const ids: string[] = [];
  for (const [id, n] of idCount) {
    if (n > 1) answered.push(result(null, id, ErrorCode.INVALID_REQUEST, 'Duplicate topic id.'));
    else ids.push(id);
  }
  for (const [name, n] of nameCount) {
    const id = topicIdOf(name);
    if (n > 1) answered.push(result(name, NULL_UUID, ErrorCode.INVALID_REQUEST, 'Duplicate topic name.'));
    else if (id !== undefined && idCount.has(id)) {
      // One answer covers both entries; neither is deleted.
      answered.push(result(name, id, ErrorCode.INVALID_REQUEST, 'The provided topic name maps to an ID that was already supplied.'));
      const i = ids.indexOf(id);
      if (i >= 0) ids.splice(i, 1);
    } else names.push(name);
  }
  return { entries, answered, names, ids };
}

export default defineHandler(20, 0, 6, async (req, ctx) => {
  const broker = ctx.broker;
  const image = broker.image;
  const { entries, answered, names, ids } = sortOut(req, ctx.apiVersion, (name) => image.topics.get(name)?.id);
  if (!broker.settings.deleteTopicEnable) {
    const code = ctx.apiVersion >= 3 ? ErrorCode.TOPIC_DELETION_DISABLED : ErrorCode.INVALID_REQUEST;
    return createDeleteTopicsResponse({
      responses: entries.map((e) => result(e.name, e.topicId, code, 'Topic deletion is disabled.')),
    });
  }
  const responses = [...answered];
  if (names.length > 0 || ids.length > 0) {
    const outcome = await callController(broker, 'deleting topics', req.timeoutMs, () => broker.controller.deleteTopics(names, ids));
    if (outcome instanceof KafkaError) {
      for (const name of names) responses.push(result(name, NULL_UUID, outcome.code, outcome.message));
      for (const id of ids) responses.push(result(null, id, outcome.code, outcome.message));
    } else {
      for (const r of outcome) responses.push(result(r.name, r.topicId, r.errorCode, r.errorMessage));
    }
  }
  return createDeleteTopicsResponse({ responses });
});
