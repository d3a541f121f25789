// A Jepsen-style queue checker (after Jepsen's Kafka workload): every value written is unique; the
// history records what each write's producer was told, and for transactional writes what became of
// their transaction; at the end everything is read back from the start. Reported:
//  - lost: acknowledged (or in a committed transaction) but never read;
//  - duplicates: read at more than one offset;
//  - abortedReads: read by a read_committed consumer although its transaction aborted or failed;
//  - partialTransactions: a transaction of unknown outcome seen in part (never half-visible);
//  - inconsistentOffsets: one partition offset read with two different values;
//  - unexpected: read but never written;
//  - reordered: acknowledged values of one producer and partition read in another order than sent.

export type WriteStatus = 'ok' | 'fail' | 'info';
export type TxnOutcome = 'committed' | 'aborted' | 'unknown';

export interface Write {
  value: string;
  /** ok: acknowledged; fail: definitely not written; info: unknown (timeout, crash). */
  status: WriteStatus;
  /** Transactional writes name their transaction. */
  txn?: string;
  /** Order keys: values of one producer to one partition, in send order. */
  producer?: string;
  partition?: number;
  seq?: number;
}

export interface Read {
  partition: number;
  offset: number;
  value: string;
}

export interface History {
  writes: Write[];
  txns?: Map<string, TxnOutcome>;
  /** Everything a read_committed consumer read back. */
  reads: Read[];
}

export interface CheckResult {
  ok: boolean;
  lost: string[];
  duplicates: string[];
  abortedReads: string[];
  partialTransactions: string[];
  inconsistentOffsets: string[];
  unexpected: string[];
  reordered: string[];
  counts: { written: number; acknowledged: number; read: number };
}

export function check(h: History): CheckResult {
  const txns = h.txns ?? new Map<string, TxnOutcome>();
  const byValue = new Map<string, Write>();
  for (const w of h.writes) {
    if (byValue.has(w.value)) throw new Error(`the history writes ${w.value} twice: values must be unique`);
    byValue.set(w.value, w);
  }
  const seenAt = new Map<string, Set<string>>();
  const atOffset = new Map<string, string>();
  const inconsistent = new Set<string>();
  for (const r of h.reads) {
    const where = `${r.partition}@${r.offset}`;
    const prev = atOffset.get(where);
    if (prev !== undefined && prev !== r.value) inconsistent.add(`${where}: ${prev} / ${r.value}`);
    atOffset.set(where, r.value);
    let s = seenAt.get(r.value);
    if (s === undefined) seenAt.set(r.value, (s = new Set()));
    s.add(where);
  }
  const outcome = (w: Write): 'visible' | 'invisible' | 'either' => {
    if (w.txn !== undefined) {
      const t = txns.get(w.txn) ?? 'unknown';
      if (t === 'committed') return 'visible';
      if (t === 'aborted') return 'invisible';
      return 'either';
    }
    if (w.status === 'ok') return 'visible';
    if (w.status === 'fail') return 'invisible';
    return 'either';
  };
  const lost: string[] = [];
  const abortedReads: string[] = [];
  for (const w of h.writes) {
    const read = seenAt.has(w.value);
    const o = outcome(w);
    if (o === 'visible' && !read) lost.push(w.value);
    if (o === 'invisible' && read) abortedReads.push(w.value);
  }
  const duplicates = [...seenAt].filter(([, where]) => where.size > 1).map(([v]) => v);
  const unexpected = [...seenAt.keys()].filter((v) => !byValue.has(v));
  const partialTransactions: string[] = [];
  const members = new Map<string, Write[]>();
  for (const w of h.writes) {
    if (w.txn === undefined) continue;
    let list = members.get(w.txn);
    if (list === undefined) members.set(w.txn, (list = []));
    list.push(w);
  }
  for (const [id, list] of members) {
    if ((txns.get(id) ?? 'unknown') !== 'unknown') continue;
    const seen = list.filter((w) => seenAt.has(w.value)).length;
    if (seen > 0 && seen < list.length) partialTransactions.push(`${id}: ${seen}/${list.length} visible`);
  }
  const reordered: string[] = [];
  const lanes = new Map<string, { seq: number; offset: number; value: string }[]>();
  for (const w of h.writes) {
    if (w.producer === undefined || w.partition === undefined || w.seq === undefined || outcome(w) !== 'visible') continue;
    const where = seenAt.get(w.value);
    if (where === undefined || where.size !== 1) continue;
    const [p, o] = [...where][0].split('@').map(Number);
    if (p !== w.partition) {
      reordered.push(`${w.value} written to ${w.partition}, read from ${p}`);
      continue;
    }
    const key = `${w.producer}/${w.partition}`;
    let lane = lanes.get(key);
    if (lane === undefined) lanes.set(key, (lane = []));
    lane.push({ seq: w.seq, offset: o, value: w.value });
  }
  for (const [key, lane] of lanes) {
    lane.sort((a, b) => a.seq - b.seq);
    for (let i = 1; i < lane.length; i++) {
      if (lane[i].offset < lane[i - 1].offset) reordered.push(`${key}: ${lane[i - 1].value} after ${lane[i].value}`);
    }
  }
  const result = {
    lost, duplicates, abortedReads, partialTransactions, inconsistentOffsets: [...inconsistent], unexpected, reordered,
    counts: { written: h.writes.length, acknowledged: h.writes.filter((w) => outcome(w) === 'visible').length, read: h.reads.length },
  };
  const ok = lost.length + duplicates.length + abortedReads.length + partialTransactions.length + inconsistent.size + unexpected.length + reordered.length === 0;
  return { ok, ...result };
}

/** A compact line for assertion messages. */
export function summary(r: CheckResult): string {
  const part = (name: string, list: string[]) => (list.length === 0 ? '' : ` ${name}=${list.length} [${list.slice(0, 5).join(', ')}]`);
  return `written=${r.counts.written} acknowledged=${r.counts.acknowledged} read=${r.counts.read}`
    + part('lost', r.lost) + part('duplicates', r.duplicates) + part('abortedReads', r.abortedReads)
    + part('partial', r.partialTransactions) + part('inconsistent', r.inconsistentOffsets)
    + part('unexpected', r.unexpected) + part('reordered', r.reordered);
}
