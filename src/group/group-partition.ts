// Which __consumer_offsets partition owns a group. Kafka computes
// `Utils.abs(groupId.hashCode()) % offsets.topic.num.partitions`, with Java's String.hashCode over
// UTF-16 code units (s[0]*31^(n-1) + ... in int32 arithmetic) and Utils.abs mapping
// Integer.MIN_VALUE to 0. Tools that read the topic (and a mixed cluster) rely on the same mapping.

export const CONSUMER_OFFSETS_TOPIC = '__consumer_offsets';

/** Java's String.hashCode. */
export function javaStringHash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
  return h;
}

/** Kafka's Utils.abs: Math.abs, except Integer.MIN_VALUE (whose absolute value overflows) is 0. */
function kafkaAbs(n: number): number {
  return n === -2147483648 ? 0 : Math.abs(n);
}

export function partitionForGroup(groupId: string, numPartitions: number): number {
  return kafkaAbs(javaStringHash(groupId)) % numPartitions;
}
