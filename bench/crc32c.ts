// Throughput of the produce-path checks: native vs JS CRC32C, and validateBatch on a 1 MiB batch
// of 1 KiB records. Run: node bench/crc32c.ts
import { randomBytes } from 'node:crypto';
import { crc32c, crc32cJs } from '../src/protocol/crc32c.ts';
import { buildRecordBatch, validateBatch } from '../src/protocol/record-batch.ts';

function bench(name: string, bytes: number, fn: () => void): void {
  for (let i = 0; i < 20; i++) fn();
  let iterations = 0;
  const start = process.hrtime.bigint();
  let elapsed = 0n;
  while (elapsed < 500_000_000n) {
    fn();
    iterations++;
    elapsed = process.hrtime.bigint() - start;
  }
  const seconds = Number(elapsed) / 1e9;
  console.log(`${name.padEnd(36)} ${((bytes * iterations) / seconds / 2 ** 20).toFixed(0).padStart(8)} MiB/s`);
}

const data = randomBytes(1 << 20);
bench('crc32c native, 1 MiB', data.length, () => crc32c(data));
bench('crc32c JS, 1 MiB', data.length, () => crc32cJs(data));

const records = Array.from({ length: 1000 }, (_, i) => ({ key: Buffer.from(`key-${i}`), value: randomBytes(1024), timestamp: 1 }));
const batch = buildRecordBatch({ records });
bench('validateBatch, 1000 × 1 KiB records', batch.length, () => {
  if (validateBatch(batch, 0) !== 0) throw new Error('invalid');
});
