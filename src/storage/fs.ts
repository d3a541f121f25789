// The filesystem seam: every byte storage reads or writes goes through these two interfaces, so the
// in-memory implementation (memory-fs.ts) can simulate power loss, torn writes and failing disks.
// Errors are thrown as Node does: an Error with an errno `code` (ENOENT, ENOSPC, EIO, ...).

export type OpenMode =
  | 'r' // read only; the file must exist
  | 'r+' // read and write; the file must exist
  | 'w+' // read and write; created, or truncated when it exists
  | 'wx+'; // read and write; created, fails with EEXIST when it exists

export interface FileHandle {
  /** Reads up to `length` bytes at file `position` into buf[offset..]; resolves the count (short at end of file). */
  read(buf: Buffer, offset: number, length: number, position: number): Promise<number>;
  /** Writes all of `bufs`, in order, starting at file `position` (short writes are continued). */
  writev(bufs: readonly Buffer[], position: number): Promise<void>;
  /** fdatasync: file data and the metadata needed to read it back (its size) are durable. */
  datasync(): Promise<void>;
  truncate(length: number): Promise<void>;
  size(): Promise<number>;
  close(): Promise<void>;
}

export interface FileStat {
  size: number;
  isDirectory: boolean;
  /** Last modification, wall-clock ms (retention falls back to it for segments without timestamps). */
  mtimeMs: number;
}

export interface FileSystem {
  open(path: string, mode: OpenMode): Promise<FileHandle>;
  readFile(path: string): Promise<Buffer>;
  /** Creates the directory and any missing parents; no error when it exists. */
  mkdir(path: string): Promise<void>;
  /** Entry names in the directory (unsorted). */
  readdir(path: string): Promise<string[]>;
  /** null when nothing exists at `path`. */
  stat(path: string): Promise<FileStat | null>;
  /** Replaces `to` if it exists (POSIX rename). */
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
  /** Removes a file or a directory tree; no error when missing. */
  rm(path: string): Promise<void>;
  /** fsync of a directory: makes creations, renames and deletions inside it durable. */
  syncDir(path: string): Promise<void>;
}
