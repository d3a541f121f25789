// What this machine's disk and page cache allow, measured in the same run as the brokers: the
// floor under any broker that writes a real log. The mock broker keeps records in memory and pays
// neither cost, so these put the Brook/mock ratios in context.
//   - pageCacheWriteMBps: writing `bytes` to a fresh file in 1 MiB writes (no fsync) — what
//     producing the same bytes costs the kernel alone (page allocation and copy), on pages the
//     guest has not just freed (see below).
//   - fdatasyncLatency: append `chunk` bytes and fdatasync, `count` times — the latency of one
//     group commit; an acks=all answer cannot come sooner.
import { closeSync, fdatasyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function withFile<T>(fn: (fd: number) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'brook-floor-'));
  const fd = openSync(join(dir, 'f'), 'w');
  try {
    return fn(fd);
  } finally {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * On this kind of virtual machine, memory the guest freed less than ~2 s ago is reused at memory
 * speed (measured 5.9 GB/s), while pages handed back to the host must be faulted in again
 * (1.2 GB/s, and as low as 0.5 GB/s under load). A broker writing new data gets the second kind
 * once it runs for a while, so the floor waits `settleMs` for freed pages to go back first.
 */
export async function pageCacheWriteMBps(bytes: number, settleMs = 3000): Promise<number> {
  await new Promise((r) => setTimeout(r, settleMs));
  const buf = Buffer.alloc(1 << 20, 0x5a);
  return withFile((fd) => {
    const start = performance.now();
    for (let done = 0; done < bytes; done += buf.length) writeSync(fd, buf, 0, Math.min(buf.length, bytes - done));
    return bytes / 1e6 / ((performance.now() - start) / 1000);
  });
}

export function fdatasyncLatency(chunk: number, count: number): { p50: number; p99: number; p999: number } {
  const buf = Buffer.alloc(chunk, 0x5a);
  const ms = withFile((fd) => {
    const out: number[] = [];
    for (let i = 0; i < count; i++) {
      writeSync(fd, buf);
      const t = performance.now();
      fdatasyncSync(fd);
      out.push(performance.now() - t);
    }
    return out.sort((a, b) => a - b);
  });
  const at = (q: number) => ms[Math.min(ms.length - 1, Math.floor(q * ms.length))];
  return { p50: at(0.5), p99: at(0.99), p999: at(0.999) };
}
