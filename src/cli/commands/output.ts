// How commands print: aligned tables with upper-case headers (like kafka-consumer-groups.sh and
// rpk), key/value summaries, JSON for scripts, byte and rate units, and a progress line that is
// drawn only on a terminal (redrawn in place on stderr, erased at the end) so pipes stay clean.
import type { CliIo } from '../main.ts';

export type Cell = string | number | null | undefined;

const cell = (c: Cell): string => (c === null || c === undefined || c === '' ? '-' : String(c));

/** Columns separated by two spaces; the last column is not padded. */
export function table(headers: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const text = rows.map((r) => r.map(cell));
  const widths = headers.map((h, i) => Math.max(h.length, ...text.map((r) => (r[i] ?? '').length)));
  const line = (r: readonly string[]): string => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd();
  return [line(headers), ...text.map(line)].join('\n') + '\n';
}

/** `KEY  value` lines with the keys aligned. */
export function keyValues(pairs: readonly (readonly [string, Cell])[]): string {
  const width = Math.max(...pairs.map(([k]) => k.length));
  return pairs.map(([k, v]) => `${k.padEnd(width)}  ${cell(v)}`).join('\n') + '\n';
}

export function printJson(io: CliIo, value: unknown): void {
  io.stdout(`${JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? v.toString() : v), 2)}\n`);
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${v.toFixed(v >= 100 ? 0 : 1)} ${units[i]}`;
}

export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

export interface ProgressDeps {
  enabled: boolean;
  write(text: string): void;
  now?: () => number;
}

/** Whether to draw progress: stderr is a terminal (BROOK_PROGRESS=0/1 overrides). */
export function progressEnabled(env: CliIo['env'], stderrIsTty: boolean | undefined): boolean {
  if (env.BROOK_PROGRESS === '0') return false;
  if (env.BROOK_PROGRESS === '1') return true;
  return stderrIsTty === true;
}

/** A one-line status redrawn at most every 200 ms; nothing at all when disabled. */
export class Progress {
  private readonly deps: ProgressDeps;
  private last = -Infinity;
  private drawn = false;

  constructor(deps: ProgressDeps) {
    this.deps = deps;
  }

  update(text: () => string, force = false): void {
    if (!this.deps.enabled) return;
    const now = (this.deps.now ?? Date.now)();
    if (!force && now - this.last < 200) return;
    this.last = now;
    this.deps.write(`\r\u001b[2K${text()}`);
    this.drawn = true;
  }

  clear(): void {
    if (this.drawn) this.deps.write('\r\u001b[2K');
    this.drawn = false;
  }
}

/**
 * A point in time given as milliseconds since the epoch or an ISO-8601 date/time
 * (`2024-05-01`, `2024-05-01T12:00:00Z`); null when it is neither.
 */
export function parseTime(text: string): number | null {
  if (/^\d+$/.test(text)) return Number(text);
  if (!/^\d{4}-\d{2}-\d{2}/.test(text)) return null;
  const t = Date.parse(text);
  return Number.isNaN(t) ? null : t;
}

/**
 * Waits until stdout has taken what was written (a pipe to a slow reader fills up; bytes still
 * queued when the process exits are lost). With `all`, until every byte is handed to the OS.
 */
export async function drainStdout(all = false): Promise<void> {
  const out = process.stdout;
  if (out.destroyed || out.writableEnded) return;
  if (!all && !out.writableNeedDrain) return;
  await new Promise<void>((resolve) => {
    const done = (): void => {
      out.off('close', done);
      out.off('error', done);
      resolve();
    };
    out.once('close', done);
    out.once('error', done);
    if (all) out.write('', () => done());
    else out.once('drain', done);
  });
}
