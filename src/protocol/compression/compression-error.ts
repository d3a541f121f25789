// Typed failure of a codec, a KafkaError whose `code` is the error to answer with: a corrupt or
// truncated payload is CORRUPT_MESSAGE(2); output beyond the caller's cap (a decompression bomb, or
// simply more than we accept) is MESSAGE_TOO_LARGE(10), which producers do not retry as-is; a codec
// we cannot run is UNSUPPORTED_COMPRESSION_TYPE(76).

import { ErrorCode, KafkaError } from '../errors.ts';

export type CompressionErrorKind = 'corrupt' | 'too-large' | 'unsupported';

const ERROR_CODES: Record<CompressionErrorKind, number> = {
  corrupt: ErrorCode.CORRUPT_MESSAGE,
  'too-large': ErrorCode.MESSAGE_TOO_LARGE,
  unsupported: ErrorCode.UNSUPPORTED_COMPRESSION_TYPE,
};

export class CompressionError extends KafkaError {
  override name = 'CompressionError';
  readonly kind: CompressionErrorKind;

  constructor(kind: CompressionErrorKind, message: string, options?: { cause?: unknown }) {
    super(ERROR_CODES[kind], message, options);
    this.kind = kind;
  }
}

/** Throws 'too-large' when `size` exceeds `maxBytes`. */
export function checkCap(size: number, maxBytes: number, what: string): void {
  if (size > maxBytes) {
    throw new CompressionError('too-large', `${what}: decompressed size ${size} exceeds the limit of ${maxBytes} bytes`);
  }
}

/** Loads an optional native codec lazily, so a missing binary only breaks that codec. */
export function lazyNative<T>(load: () => T, name: string): () => T {
  let mod: T | undefined;
  let failure: unknown;
  return () => {
    if (mod !== undefined) return mod;
    if (failure === undefined) {
      try {
        mod = load();
        return mod;
      } catch (err) {
        failure = err;
      }
    }
    throw new CompressionError('unsupported', `${name} native module is unavailable`, { cause: failure });
  };
}
