// partition.metadata (KIP-516): the topic id a partition directory belongs to, so a directory left
// behind by a deleted topic is never mistaken for a new topic of the same name. Kafka's format:
//   version: 0
//   topic_id: <id>

export function formatPartitionMetadata(topicId: string): Buffer {
  return Buffer.from(`version: 0\ntopic_id: ${topicId}\n`, 'utf8');
}

/** The topic id, or null when the content is not a version-0 partition.metadata. */
export function parsePartitionMetadata(data: Buffer): string | null {
  const lines = data.toString('utf8').split('\n');
  if (lines[0]?.trim() !== 'version: 0') return null;
  const m = /^topic_id:\s*(\S+)\s*$/.exec(lines[1] ?? '');
  return m === null ? null : m[1];
}
