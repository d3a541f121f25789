// Typed storage failures. The broker maps StorageError to KAFKA_STORAGE_ERROR (56) for the partition;
// Kafka answers the same code for any I/O failure on a log dir (KIP-112), and clients retry after a
// metadata refresh.

export const KAFKA_STORAGE_ERROR = 56;

export class StorageError extends Error {
  override name = 'StorageError';
  /** errno-style code of the underlying failure (ENOSPC, EIO, ...), or 'OFFLINE' for a log already taken offline. */
  readonly code: string;
  readonly errorCode = KAFKA_STORAGE_ERROR;

  constructor(message: string, code: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

export function errnoOf(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'EIO';
}

/** Wraps any failure into a StorageError naming what was being done. */
export function storageError(what: string, err: unknown): StorageError {
  if (err instanceof StorageError) return err;
  const msg = err instanceof Error ? err.message : String(err);
  return new StorageError(`${what}: ${msg}`, errnoOf(err), { cause: err });
}

/** Kafka OFFSET_OUT_OF_RANGE (1): e.g. DeleteRecords past the high watermark. */
export class OffsetOutOfRangeError extends Error {
  override name = 'OffsetOutOfRangeError';
  readonly errorCode = 1;
}
