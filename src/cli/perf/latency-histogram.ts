// Latencies for `brook perf produce`, kept in a fixed number of buckets whatever the record count
// (the layout of HdrHistogram with two significant binary digits past 64): values below 128 µs
// each have their own bucket; above, every power of two is split into 64 equal buckets, so a
// reported percentile is within 1/64 (≈ 1.6%) of the true value. Min, max and the mean are exact.

const SUB_BITS = 6;
const SUB = 1 << SUB_BITS; // 64 buckets per power of two above the linear range
const LINEAR = 2 * SUB; // 0..127 µs, one bucket each
/** 2^31 µs ≈ 36 min; longer latencies are counted in the last bucket (max stays exact). */
const MAX_MSB = 30;
const BUCKETS = LINEAR + (MAX_MSB - SUB_BITS) * SUB;

function bucketOf(us: number): number {
  if (us < LINEAR) return us;
  if (us >= 2 ** (MAX_MSB + 1)) return BUCKETS - 1;
  const msb = 31 - Math.clz32(us);
  const shift = msb - SUB_BITS;
  return LINEAR + (shift - 1) * SUB + ((us >>> shift) - SUB);
}

/** The middle of a bucket, in µs. */
function valueOf(bucket: number): number {
  if (bucket < LINEAR) return bucket;
  const shift = Math.floor((bucket - LINEAR) / SUB) + 1;
  const sub = ((bucket - LINEAR) % SUB) + SUB;
  return sub * 2 ** shift + (2 ** shift - 1) / 2;
}

export interface LatencySummary {
  count: number;
  /** Milliseconds; 0 when nothing was recorded. */
  avg: number;
  min: number;
  p50: number;
  p95: number;
  p99: number;
  p999: number;
  max: number;
}

export class LatencyHistogram {
  private readonly counts = new Float64Array(BUCKETS);
  private n = 0;
  private sumUs = 0;
  private minUs = Infinity;
  private maxUs = 0;

  /** Adds one latency given in milliseconds (fractions kept to the microsecond). */
  record(ms: number): void {
    const us = ms <= 0 ? 0 : Math.round(ms * 1000);
    this.counts[bucketOf(us)]++;
    this.n++;
    this.sumUs += us;
    if (us < this.minUs) this.minUs = us;
    if (us > this.maxUs) this.maxUs = us;
  }

  get count(): number {
    return this.n;
  }

  /** The latency (ms) at or below which a fraction `q` (0..1) of the values lie. */
  percentile(q: number): number {
    if (this.n === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.n));
    let seen = 0;
    for (let b = 0; b < BUCKETS; b++) {
      seen += this.counts[b];
      if (seen < rank) continue;
      const v = b === BUCKETS - 1 ? this.maxUs : valueOf(b);
      return Math.min(Math.max(v, this.minUs), this.maxUs) / 1000;
    }
    return this.maxUs / 1000;
  }

  summary(): LatencySummary {
    if (this.n === 0) return { count: 0, avg: 0, min: 0, p50: 0, p95: 0, p99: 0, p999: 0, max: 0 };
    return {
      count: this.n,
      avg: this.sumUs / this.n / 1000,
      min: this.minUs / 1000,
      p50: this.percentile(0.5),
      p95: this.percentile(0.95),
      p99: this.percentile(0.99),
      p999: this.percentile(0.999),
      max: this.maxUs / 1000,
    };
  }
}
