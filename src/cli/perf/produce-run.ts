// The load loop of `brook perf produce`: N records of one payload (generated once, shared by every
// record) sent as fast as the producer takes them or paced by a Throttle, with each record's
// latency from send() to its acknowledgement kept in a LatencyHistogram. Records handed over in the
// same turn of the event loop share one start time and one delivery callback (Producer.produce, so
// no promise per record), and the loop allocates nothing per record of its own.
import type { Producer, ProducerRecord } from '../../client/producer.ts';
import { LatencyHistogram, type LatencySummary } from './latency-histogram.ts';
import { Throttle } from './throttle.ts';

export interface ProduceLoad {
  topic: string;
  records: number;
  recordSize: number;
  /** Records per second; 0 or less for no limit. */
  throughput: number;
  /** Called about every `windowMs` with what happened since the previous call. */
  onWindow?: (w: WindowStats) => void;
  windowMs?: number;
}

export interface WindowStats {
  records: number;
  seconds: number;
  recordsPerSecond: number;
  mibPerSecond: number;
  avgLatencyMs: number;
  maxLatencyMs: number;
}

export interface ProduceResult {
  /** Acknowledged records. */
  records: number;
  failed: number;
  /** Value bytes acknowledged (records × record size). */
  bytes: number;
  seconds: number;
  recordsPerSecond: number;
  mibPerSecond: number;
  latencyMs: LatencySummary;
  firstError: unknown;
}

const MIB = 1024 * 1024;

/** Printable bytes that vary along the payload (compressible, as real data mostly is). */
export function makePayload(size: number, random: () => number = Math.random): Buffer {
  const payload = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) payload[i] = 65 + Math.floor(random() * 26);
  return payload;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function runProduceLoad(producer: Producer, load: ProduceLoad): Promise<ProduceResult> {
  const payload = makePayload(load.recordSize);
  // One record object for every send: the producer copies what it needs from it when called.
  const record: ProducerRecord = { topic: load.topic, key: null, value: payload };
  const histogram = new LatencyHistogram();
  let acked = 0;
  let failed = 0;
  let firstError: unknown = null;
  let win = { records: 0, sumMs: 0, maxMs: 0, at: performance.now() };
  const onFail = (e: unknown): void => {
    failed++;
    firstError ??= e;
  };

  const start = performance.now();
  const throttle = new Throttle(load.throughput, start);
  const windowMs = load.windowMs ?? 5000;
  const timer = load.onWindow === undefined ? null : setInterval(() => {
    const now = performance.now();
    const seconds = (now - win.at) / 1000;
    load.onWindow!({
      records: win.records, seconds,
      recordsPerSecond: seconds > 0 ? win.records / seconds : 0,
      mibPerSecond: seconds > 0 ? (win.records * load.recordSize) / MIB / seconds : 0,
      avgLatencyMs: win.records > 0 ? win.sumMs / win.records : 0,
      maxLatencyMs: win.maxMs,
    });
    win = { records: 0, sumMs: 0, maxMs: 0, at: now };
  }, windowMs);

  let sent = 0;
  try {
    while (sent < load.records) {
      if (!producer.hasCapacity()) {
        await producer.waitForCapacity();
        continue;
      }
      const now = performance.now();
      const due = Math.min(throttle.allowance(sent, now), load.records - sent);
      if (due <= 0) {
        await sleep(throttle.delayMs(sent, now));
        continue;
      }
      const onDelivery = (error: Error | null): void => {
        if (error !== null) {
          onFail(error);
          return;
        }
        const ms = performance.now() - now;
        histogram.record(ms);
        acked++;
        win.records++;
        win.sumMs += ms;
        if (ms > win.maxMs) win.maxMs = ms;
      };
      for (let i = 0; i < due && producer.hasCapacity(); i++) {
        producer.produce(record, onDelivery);
        sent++;
      }
      // Let the producer's appends, sends and acknowledgements run between bursts.
      if (!throttle.unlimited) await sleep(throttle.delayMs(sent, performance.now()));
    }
    await producer.flush();
  } finally {
    if (timer !== null) clearInterval(timer);
  }
  // flush() returns once the batches settle; callbacks of records failed before reaching a batch may run just after.
  while (acked + failed < sent) await new Promise((r) => setImmediate(r));
  const seconds = (performance.now() - start) / 1000;
  const bytes = acked * load.recordSize;
  return {
    records: acked, failed, bytes, seconds,
    recordsPerSecond: seconds > 0 ? acked / seconds : 0,
    mibPerSecond: seconds > 0 ? bytes / MIB / seconds : 0,
    latencyMs: histogram.summary(),
    firstError,
  };
}
