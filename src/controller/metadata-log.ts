// The controller's only view of where metadata records are stored. The single-node log
// (file-metadata-log.ts) appends and fsyncs locally; the Raft-backed log of the quorum will
// implement the same interface, resolving `append` once the records are committed by a majority.
// The controller appends only what it has validated against the latest image and replays records
// only after `append` resolved, so image and log never disagree.

export interface MetadataLog {
  /**
   * Appends framed records (record-codec.ts) as one atomic batch: after a crash either all of them
   * are in the log or none. Resolves with the offset of the last one once they are durable
   * (committed); offsets start at 0 and are consecutive. Rejects when nothing was appended.
   */
  append(records: Buffer[]): Promise<number>;
  /** Calls `cb` for every record in the log, in offset order. */
  replay(cb: (record: Buffer, offset: number) => void): Promise<void>;
  close(): Promise<void>;
}
