// Retries with exponential backoff as Kafka's clients do since KIP-580: the wait before retry n
// (n ≥ 1) is retry.backoff.ms · 2^(n-1), capped at retry.backoff.max.ms, with ±20 % random jitter
// so that many clients failing together do not retry in lockstep.
import { isRetriableError } from './errors.ts';

export interface RetryPolicy {
  /** How many times to retry after the first attempt. */
  retries: number;
  /** retry.backoff.ms (Kafka's default 100). */
  backoffMs: number;
  /** retry.backoff.max.ms (Kafka's default 1000). */
  backoffMaxMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { retries: 5, backoffMs: 100, backoffMaxMs: 1000 };

export interface RetrySeams {
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The wait before retry `attempt` (1 for the first retry). */
export function backoffFor(attempt: number, policy: Pick<RetryPolicy, 'backoffMs' | 'backoffMaxMs'>, random: () => number = Math.random): number {
  const base = policy.backoffMs * 2 ** Math.max(0, attempt - 1);
  const jitter = 0.8 + random() * 0.4;
  // As Kafka's ExponentialBackoff: the cap applies after the jitter.
  return Math.max(0, Math.min(policy.backoffMaxMs, Math.round(base * jitter)));
}

/**
 * Runs `fn` until it succeeds, fails with a non-retriable error, or has been retried
 * `policy.retries` times. `beforeRetry` runs after the backoff (refresh metadata, find a new
 * coordinator); its own failures count as the attempt's failure.
 */
export async function withRetries<T>(
  fn: (attempt: number) => Promise<T>,
  policy: RetryPolicy,
  beforeRetry?: (error: unknown, attempt: number) => Promise<void> | void,
  seams: RetrySeams & { retriable?: (e: unknown) => boolean } = {},
): Promise<T> {
  const retriable = seams.retriable ?? isRetriableError;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (e) {
      if (attempt >= policy.retries || !retriable(e)) throw e;
      await (seams.sleep ?? sleep)(backoffFor(attempt + 1, policy, seams.random));
      if (beforeRetry) {
        try {
          await beforeRetry(e, attempt + 1);
        } catch (again) {
          if (!retriable(again)) throw again;
        }
      }
    }
  }
}
