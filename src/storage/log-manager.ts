// All partition logs of this broker, spread over one or more log dirs (Kafka's log.dirs), and the
// background work on them: flush.ms flushes, recovery-point / log-start checkpoints, retention and
// compaction. A log dir that fails with an I/O error (other than a full disk) is taken offline with
// all its partitions, as Kafka does (KIP-112); they answer KAFKA_STORAGE_ERROR until restart.

import { randomBytes } from 'node:crypto';
import { formatOffsetCheckpoint, readOffsetCheckpoint, SerialFileWriter, writeFileAtomic } from './checkpoint-file.ts';
import { runCleanerPass } from './cleaner.ts';
import { realClock, type Clock } from './clock.ts';
import { StorageError } from './errors.ts';
import {
  CLEAN_SHUTDOWN_FILE, CLEANER_CHECKPOINT_FILE, DELETE_DIR_SUFFIX, LOG_START_OFFSET_CHECKPOINT_FILE, PARTITION_METADATA_FILE,
  RECOVERY_POINT_CHECKPOINT_FILE, join, parsePartitionDir, partitionDirName,
} from './file-names.ts';
import type { FileSystem } from './fs.ts';
import { defaultLogConfig, type LogConfig } from './log-config.ts';
import { loadPartitionLog, type LoadStats } from './log-loader.ts';
import { PartitionLog } from './partition-log.ts';
import { formatPartitionMetadata } from './partition-metadata.ts';
import { ProducerSnapshots } from './producer-snapshots.ts';
import { realFs } from './real-fs.ts';
import { LogSegment } from './segment.ts';
import { LeaderEpochCache } from './leader-epoch-cache.ts';

export interface LogManagerOptions {
  dirs: string[];
  fs?: FileSystem;
  clock?: Clock;
  defaults?: LogConfig;
  /** false: no timers; tests drive checkpoint()/runRetention()/runCleaner() by hand. Default true. */
  background?: boolean;
  /** Kafka log.flush.scheduler.interval.ms analogue: how often flush.ms is checked. Default 1000. */
  flushCheckMs?: number;
  /** log.flush.offset.checkpoint.interval.ms. Default 60000. */
  checkpointMs?: number;
  /** log.retention.check.interval.ms. Default 300000. */
  retentionCheckMs?: number;
  /** log.cleaner.backoff.ms. Default 15000. */
  cleanerBackoffMs?: number;
  /** Partitions loaded concurrently per log dir at start-up. Default 16. */
  recoveryConcurrency?: number;
}

class LogDir {
  readonly path: string;
  offline: StorageError | null = null;
  readonly recoveryPoints: SerialFileWriter;
  readonly logStarts: SerialFileWriter;
  readonly cleanerCheckpoint: SerialFileWriter;
  cleanerOffsets = new Map<string, number>();

  constructor(fs: FileSystem, path: string) {
    this.path = path;
    this.recoveryPoints = new SerialFileWriter(fs, join(path, RECOVERY_POINT_CHECKPOINT_FILE));
    this.logStarts = new SerialFileWriter(fs, join(path, LOG_START_OFFSET_CHECKPOINT_FILE));
    this.cleanerCheckpoint = new SerialFileWriter(fs, join(path, CLEANER_CHECKPOINT_FILE));
  }
}

const key = (topic: string, partition: number): string => `${topic}-${partition}`;

export class LogManager {
  readonly fs: FileSystem;
  readonly clock: Clock;
  readonly defaults: LogConfig;
  readonly stats: LoadStats = { scannedBytes: 0, truncatedBytes: 0, deletedSegments: 0 };
  /** Log dirs that had no clean-shutdown marker at open. */
  readonly recoveredDirs: string[] = [];
  readonly #dirs: LogDir[];
  readonly #logs = new Map<string, PartitionLog>();
  readonly #dirOf = new Map<PartitionLog, LogDir>();
  readonly #timers: NodeJS.Timeout[] = [];
  readonly #running = new Set<string>();
  #closed = false;

  private constructor(opts: LogManagerOptions) {
    this.fs = opts.fs ?? realFs;
    this.clock = opts.clock ?? realClock;
    this.defaults = opts.defaults ?? defaultLogConfig;
    this.#dirs = opts.dirs.map((d) => new LogDir(this.fs, d));
  }

  /** Opens every log dir, recovering partitions as needed, and starts the background tasks. */
  static async open(opts: LogManagerOptions): Promise<LogManager> {
    const m = new LogManager(opts);
    await Promise.all(m.#dirs.map((d) => m.#openDir(d, opts.recoveryConcurrency ?? 16)));
    if (opts.background !== false) m.#startTimers(opts);
    return m;
  }

  get(topic: string, partition: number): PartitionLog | undefined {
    return this.#logs.get(key(topic, partition));
  }

  all(): PartitionLog[] {
    return [...this.#logs.values()];
  }

  offlineDirs(): string[] {
    return this.#dirs.filter((d) => d.offline !== null).map((d) => d.path);
  }

  /** Creates an empty log (idempotent: an existing log of the same topic id is returned as is). */
  async create(topic: string, partition: number, topicId: string, config: LogConfig): Promise<PartitionLog> {
    const existing = this.get(topic, partition);
    if (existing !== undefined) {
      // A leftover of an earlier topic with the same name (KIP-516) is replaced.
      if (existing.topicId === topicId || existing.topicId === '') {
        existing.topicId = topicId;
        existing.updateConfig(config);
        return existing;
      }
      await this.delete(topic, partition);
    }
    const online = this.#dirs.filter((d) => d.offline === null);
    if (online.length === 0) throw new StorageError('no online log dir', 'OFFLINE');
    const count = (d: LogDir): number => [...this.#dirOf.values()].filter((x) => x === d).length;
    const dir = online.reduce((a, b) => (count(b) < count(a) ? b : a));
    const path = join(dir.path, partitionDirName(topic, partition));
    await this.fs.mkdir(path);
    await writeFileAtomic(this.fs, join(path, PARTITION_METADATA_FILE), formatPartitionMetadata(topicId));
    await this.fs.syncDir(dir.path);
    const seg = new LogSegment(path, 0, this.clock.now());
    seg.resetIndexes(config);
    const log = new PartitionLog({
      fs: this.fs, clock: this.clock, logDir: dir.path, dir: path, topic, partition, topicId, config,
      segments: [seg], logStartOffset: 0, recoveryPoint: 0,
      leaderEpochs: new LeaderEpochCache(), snapshots: new ProducerSnapshots(this.fs, path),
    });
    this.#register(log, dir);
    return log;
  }

  /** Removes the log: its directory is renamed <dir>.<id>-delete and removed after file.delete.delay.ms. */
  async delete(topic: string, partition: number): Promise<void> {
    const log = this.get(topic, partition);
    if (log === undefined) return;
    this.#logs.delete(key(topic, partition));
    const dir = this.#dirOf.get(log)!;
    this.#dirOf.delete(log);
    log.halt(new StorageError(`${topic}-${partition} was deleted`, 'OFFLINE'));
    const doomed = `${log.dir}.${randomBytes(16).toString('hex')}${DELETE_DIR_SUFFIX}`;
    await this.fs.rename(log.dir, doomed);
    await this.fs.syncDir(dir.path);
    const finish = async (): Promise<void> => {
      for (const s of log.segments) await s.close().catch(() => {});
      await this.fs.rm(doomed).catch(() => {});
    };
    const delay = log.config.fileDeleteDelayMs;
    if (delay <= 0 || this.#closed) await finish();
    else setTimeout(() => void finish(), Math.min(delay, 0x7fffffff)).unref();
  }

  /** Writes recovery-point and log-start-offset checkpoints of every online log dir. */
  async checkpoint(): Promise<void> {
    await Promise.all(this.#dirs.filter((d) => d.offline === null).map(async (d) => {
      const rps: { topic: string; partition: number; offset: number }[] = [];
      const starts: { topic: string; partition: number; offset: number }[] = [];
      for (const log of this.#logsIn(d)) {
        const s = await log.checkpointState().catch(() => null);
        if (s === null) continue;
        rps.push({ topic: log.topic, partition: log.partition, offset: s.recoveryPoint });
        starts.push({ topic: log.topic, partition: log.partition, offset: s.logStartOffset });
      }
      try {
        await d.recoveryPoints.write(() => formatOffsetCheckpoint(rps));
        await d.logStarts.write(() => formatOffsetCheckpoint(starts));
      } catch (err) {
        this.#dirFailed(d, err);
      }
    }));
  }

  /** One retention pass over every log; returns the number of segments deleted. */
  async runRetention(): Promise<number> {
    let total = 0;
    for (const log of this.all()) {
      if (log.isOffline) continue;
      total += await log.deleteOldSegments().catch(() => 0);
    }
    return total;
  }

  /** One compaction pass: cleans the dirtiest eligible log, if any. Returns the log cleaned or null. */
  async runCleaner(): Promise<PartitionLog | null> {
    const cleaned = await runCleanerPass(this.all().filter((l) => !l.isOffline), (log) => this.#cleanerOffsets(log));
    if (cleaned === null) return null;
    const d = this.#dirOf.get(cleaned.log);
    if (d !== undefined) {
      d.cleanerOffsets.set(key(cleaned.log.topic, cleaned.log.partition), cleaned.cleanedTo);
      await this.#writeCleanerCheckpoint(d).catch((err: unknown) => this.#dirFailed(d, err));
    }
    return cleaned.log;
  }

  /** Flushes and closes every log, writes the checkpoints and the clean-shutdown markers. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const t of this.#timers) clearInterval(t);
    const clean = new Set<LogDir>(this.#dirs.filter((d) => d.offline === null));
    await Promise.all(this.all().map(async (log) => {
      const wasOffline = log.isOffline;
      try {
        await log.close();
      } catch {
        clean.delete(this.#dirOf.get(log)!);
      }
      if (wasOffline) clean.delete(this.#dirOf.get(log)!);
    }));
    await this.checkpoint();
    for (const d of clean) {
      if (d.offline !== null) continue;
      await this.#writeCleanerCheckpoint(d).catch(() => {});
      await writeFileAtomic(this.fs, join(d.path, CLEAN_SHUTDOWN_FILE), Buffer.alloc(0)).catch(() => {});
    }
  }

  /** Stops everything without I/O, as a kill -9 would (tests). */
  halt(): void {
    this.#closed = true;
    for (const t of this.#timers) clearInterval(t);
    for (const log of this.all()) log.halt();
  }

  // --- internals ---------------------------------------------------------------------------------

  #logsIn(d: LogDir): PartitionLog[] {
    return this.all().filter((l) => this.#dirOf.get(l) === d);
  }

  #register(log: PartitionLog, dir: LogDir): void {
    this.#logs.set(key(log.topic, log.partition), log);
    this.#dirOf.set(log, dir);
    log.onFailure = (_l, err, permanent) => {
      if (permanent && err.code !== 'OFFLINE') this.#dirFailed(dir, err);
    };
  }

  #dirFailed(d: LogDir, err: unknown): void {
    if (d.offline !== null) return;
    d.offline = err instanceof StorageError ? err : new StorageError(`log dir ${d.path} failed: ${String(err)}`, 'EIO');
    for (const log of this.#logsIn(d)) if (!log.isOffline) log.halt(d.offline);
  }

  #cleanerOffsets(log: PartitionLog): number {
    return this.#dirOf.get(log)?.cleanerOffsets.get(key(log.topic, log.partition)) ?? 0;
  }

  async #writeCleanerCheckpoint(d: LogDir): Promise<void> {
    const live = new Set(this.#logsIn(d).map((l) => key(l.topic, l.partition)));
    const entries: { topic: string; partition: number; offset: number }[] = [];
    for (const [k, offset] of d.cleanerOffsets) {
      const log = this.#logs.get(k);
      if (live.has(k) && log !== undefined) entries.push({ topic: log.topic, partition: log.partition, offset });
    }
    await d.cleanerCheckpoint.write(() => formatOffsetCheckpoint(entries));
  }

  async #openDir(d: LogDir, concurrency: number): Promise<void> {
    try {
      await this.fs.mkdir(d.path);
      const marker = join(d.path, CLEAN_SHUTDOWN_FILE);
      const clean = (await this.fs.stat(marker)) !== null;
      if (!clean) this.recoveredDirs.push(d.path);
      const rps = await readOffsetCheckpoint(this.fs, join(d.path, RECOVERY_POINT_CHECKPOINT_FILE));
      const starts = await readOffsetCheckpoint(this.fs, join(d.path, LOG_START_OFFSET_CHECKPOINT_FILE));
      d.cleanerOffsets = await readOffsetCheckpoint(this.fs, join(d.path, CLEANER_CHECKPOINT_FILE));
      const names = await this.fs.readdir(d.path);
      for (const n of names.filter((n) => n.endsWith(DELETE_DIR_SUFFIX))) await this.fs.rm(join(d.path, n));
      // The metadata log (__cluster_metadata-0) belongs to the controller, not to this manager.
      const parts = names.filter((n) => !n.endsWith(DELETE_DIR_SUFFIX) && !n.startsWith('__cluster_metadata-') && parsePartitionDir(n) !== null);
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < parts.length) {
          const name = parts[next++];
          if ((await this.fs.stat(join(d.path, name)))?.isDirectory !== true) continue;
          const log = await loadPartitionLog({
            fs: this.fs, clock: this.clock, logDir: d.path, config: this.defaults, cleanShutdown: clean,
            recoveryPoint: rps.get(name), logStartOffset: starts.get(name),
          }, name, this.stats);
          this.#register(log, d);
        }
      };
      await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
      if (clean) {
        // From here on a crash must trigger recovery again.
        await this.fs.unlink(marker);
        await this.fs.syncDir(d.path);
      }
    } catch (err) {
      this.#dirFailed(d, err);
    }
  }

  #startTimers(opts: LogManagerOptions): void {
    const every = (name: string, ms: number, task: () => Promise<unknown> | void): void => {
      const t = setInterval(() => {
        if (this.#running.has(name) || this.#closed) return;
        this.#running.add(name);
        Promise.resolve()
          .then(task)
          .catch(() => {})
          .finally(() => this.#running.delete(name));
      }, ms);
      t.unref();
      this.#timers.push(t);
    };
    every('flush', opts.flushCheckMs ?? 1000, () => {
      for (const log of this.#logs.values()) log.maybeFlushByTime();
    });
    every('checkpoint', opts.checkpointMs ?? 60_000, () => this.checkpoint());
    every('retention', opts.retentionCheckMs ?? 300_000, () => this.runRetention());
    every('cleaner', opts.cleanerBackoffMs ?? 15_000, async () => {
      while (!this.#closed && (await this.runCleaner()) !== null) {
        // keep cleaning while some log is eligible
      }
    });
  }
}
