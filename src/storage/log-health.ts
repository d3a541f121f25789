// Whether a partition log may be written and read. A full disk (ENOSPC, EDQUOT) is transient: the
// log is rolled back to its last written batch and refuses appends for a while, then tries again;
// reads go on. Any other I/O failure, and every failed fdatasync (after which the kernel may have
// dropped the dirty pages: retrying could acknowledge lost data), is permanent until restart.

import { StorageError } from './errors.ts';

export class LogHealth {
  error: StorageError | null = null;
  permanent = false;
  #retryAt = 0;

  /** Throws the failure unless appends are allowed (again). */
  checkWritable(nowMono: number): void {
    if (this.error === null) return;
    if (!this.permanent && nowMono >= this.#retryAt) {
      this.error = null;
      return;
    }
    throw this.error;
  }

  checkReadable(): void {
    if (this.error !== null && this.permanent) throw this.error;
  }

  /** Records a failure; true when it changes what the log must do (first one, or now permanent). */
  fail(err: StorageError, permanent: boolean): boolean {
    const changes = this.error === null || (!this.permanent && permanent);
    this.error = err;
    this.permanent ||= permanent;
    this.#retryAt = Number.POSITIVE_INFINITY;
    return changes;
  }

  /** After a transient failure has been cleaned up: appends may be tried again from `mono`. */
  retryFrom(mono: number): void {
    if (!this.permanent) this.#retryAt = mono;
  }

  /** Closed, halted or deleted: nothing more, ever. */
  stop(err: StorageError): void {
    this.error ??= err;
    this.permanent = true;
  }
}
