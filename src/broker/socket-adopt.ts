// Reading an accepted connection into memory the broker chooses.
//
// Node offers `onread` (the kernel writes into a buffer we supply, instead of a fresh 64 KiB buffer
// per read) only when a Socket is constructed, and the server constructs accepted sockets itself.
// So the server accepts with pauseOnConnect (nothing has been read yet), and the accepted socket's
// handle moves to a new Socket constructed with `onread`; the emptied original is destroyed so the
// server's connection count stays right. If this Node does not allow it, the original socket is
// used as it is (the caller falls back to 'data' events).
import { Socket } from 'node:net';

export interface OnRead {
  /** Where the next read should put its bytes. */
  buffer(): Buffer;
  /** `n` bytes were read into `buf`. */
  read(n: number, buf: Buffer): void;
}

interface HandleOwner {
  _handle?: unknown;
}

/** A socket reading through `onread`, or null (the original stays usable, still paused). */
export function adoptWithOnread(accepted: Socket, onread: OnRead): Socket | null {
  const handle = (accepted as unknown as HandleOwner)._handle;
  if (handle === null || typeof handle !== 'object' || accepted.readableFlowing === true) return null;
  let adopted: Socket;
  try {
    adopted = new Socket({
      handle,
      readable: true,
      writable: true,
      onread: {
        buffer: () => onread.buffer(),
        callback: (n: number, buf: Uint8Array) => {
          onread.read(n, buf as Buffer);
          return true;
        },
      },
    } as ConstructorParameters<typeof Socket>[0]);
  } catch {
    return null;
  }
  (accepted as unknown as HandleOwner)._handle = null;
  accepted.destroy();
  return adopted;
}
