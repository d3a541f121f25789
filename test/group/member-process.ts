// A group member running in its own process (so a test can SIGKILL it: a crash, no LeaveGroup),
// reporting JSON-line events on stdout.
import { spawn, type ChildProcess } from 'node:child_process';
import { readJsonLines } from '../helpers/json-lines.ts';

export interface MemberEvent {
  event: 'started' | 'assign' | 'revoke' | 'lost' | 'record' | 'error' | 'closed';
  partitions?: number[];
  owned?: number[];
  protocol?: string;
  partition?: number;
  offset?: number;
  value?: string;
  error?: string;
}

export class MemberProcess {
  readonly events: MemberEvent[] = [];
  readonly child: ChildProcess;
  stderr = '';
  readonly exited: Promise<void>;
  #waiters: (() => void)[] = [];

  constructor(cmd: string, args: string[]) {
    this.child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    readJsonLines<MemberEvent>(this.child.stdout!, (e) => {
      this.events.push(e);
      for (const w of this.#waiters.splice(0)) w();
    }, (line) => (this.stderr += `unparsable: ${line}\n`));
    this.child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.child.stdin!.on('error', () => {});
    this.exited = new Promise((resolve) => this.child.on('exit', () => resolve()));
  }

  /** The partitions this member owns after its last assign/revoke/lost event. */
  get owned(): number[] {
    for (let i = this.events.length - 1; i >= 0; i--) {
      const e = this.events[i];
      if (e.owned !== undefined) return e.owned;
    }
    return [];
  }

  records(): MemberEvent[] {
    return this.events.filter((e) => e.event === 'record');
  }

  /** Resolves once `pred` holds (checked on each new event), or rejects after `timeoutMs`. */
  async waitFor(pred: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pred()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; events: ${JSON.stringify(this.events.slice(-10))}\n${this.stderr.slice(-2000)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 200));
        this.#waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.stdin!.write('close\n');
    const t = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
    await this.exited;
    clearTimeout(t);
  }

  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.exited;
  }
}

/** Polls `pred` until it holds or `timeoutMs` passes. */
export async function eventually(pred: () => boolean | Promise<boolean>, timeoutMs: number, what: string | (() => string)): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await pred())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${typeof what === "string" ? what : what()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
