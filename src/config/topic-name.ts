// Kafka's topic name rules: 1..249 characters from [a-zA-Z0-9._-], not "." or "..". The limit of
// 249 leaves room for a partition suffix in a 255-byte directory name ("<topic>-<partition>").
// Because metric names replace '.' with '_', two topics whose names differ only in '.' versus
// '_' collide; Kafka refuses to create the second one (INVALID_TOPIC_EXCEPTION).

export const MAX_TOPIC_NAME_LENGTH = 249;

/** Topics the brokers own; clients may not create them or write to them. */
export const INTERNAL_TOPICS: ReadonlySet<string> = new Set(['__consumer_offsets', '__transaction_state', '__cluster_metadata']);

const LEGAL = /^[a-zA-Z0-9._-]+$/;

export function isInternalTopic(name: string): boolean {
  return INTERNAL_TOPICS.has(name);
}

/**
 * Null if `name` is a legal topic name (Kafka's Topic.validate), else a message saying why not.
 * Internal names pass: they are legal names, just not ones a client may create.
 */
export function validateTopicName(name: string): string | null {
  if (name.length === 0) return 'topic name is empty';
  if (name === '.' || name === '..') return `topic name cannot be "${name}"`;
  if (name.length > MAX_TOPIC_NAME_LENGTH) {
    return `topic name is ${name.length} characters long; the limit is ${MAX_TOPIC_NAME_LENGTH}`;
  }
  if (!LEGAL.test(name)) {
    return `topic name "${name}" may contain only ASCII letters, digits, '.', '_' and '-'`;
  }
  return null;
}

/** As validateTopicName, and also refuses the internal names: for topics a client asks to create. */
export function validateNewTopicName(name: string): string | null {
  return validateTopicName(name) ?? (isInternalTopic(name) ? `topic name "${name}" is reserved for internal use` : null);
}

/** Whether the name contains a character ('.' or '_') that can collide with another name. */
export function hasCollisionChars(name: string): boolean {
  return name.includes('.') || name.includes('_');
}

/** True when the names are equal once every '.' is read as '_' (true for identical names too). */
export function collides(a: string, b: string): boolean {
  return a.length === b.length && a.replaceAll('.', '_') === b.replaceAll('.', '_');
}

/** An existing name that `name` collides with without being identical to it, or null. */
export function findCollision(name: string, existing: Iterable<string>): string | null {
  if (!hasCollisionChars(name)) return null;
  for (const other of existing) {
    if (other !== name && collides(name, other)) return other;
  }
  return null;
}
