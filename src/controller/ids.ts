// Identifiers the controller mints, from the injected random source only (so a seeded test
// replays the same ids).
//
// Topic ids are version-4 UUIDs (Kafka's Uuid.randomUuid), written in the canonical 8-4-4-4-12 hex
// form used throughout Brook. The all-zero UUID means "no id" on the wire and 0...01 is reserved for
// the metadata topic (KIP-516), which the version bits already exclude.
//
// A cluster id is a UUID in Kafka's own string form: 16 bytes in unpadded base64url, 22 characters
// (`kafka-storage random-uuid`). Kafka redraws an id whose text starts with '-' so that it cannot be
// mistaken for a command-line option; so do we.

export type RandomSource = () => number;

function randomBytes(random: RandomSource, n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(random() * 256) & 0xff;
  return b;
}

function v4(random: RandomSource): Buffer {
  const b = randomBytes(random, 16);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  return b;
}

export function uuidFromBytes(b: Buffer): string {
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export function randomUuid(random: RandomSource): string {
  return uuidFromBytes(v4(random));
}

/** Kafka's Uuid.toString(): unpadded base64url of the 16 bytes. */
export function uuidToKafkaString(uuid: string): string {
  return Buffer.from(uuid.replaceAll('-', ''), 'hex').toString('base64url');
}

export function randomClusterId(random: RandomSource): string {
  for (;;) {
    const id = v4(random).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

/** A cluster id as Kafka accepts it: 22 base64url characters encoding 16 bytes. */
export function isValidClusterId(id: string): boolean {
  return /^[A-Za-z0-9_-]{22}$/.test(id) && Buffer.from(id, 'base64url').length === 16;
}

/** Fisher-Yates shuffle of a copy, driven by `random`. */
export function shuffled<T>(items: readonly T[], random: RandomSource): T[] {
  const a = items.slice();
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
  return a;
}
