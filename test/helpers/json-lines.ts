// Reading a child process's stdout as JSON lines (the Python client scripts the tests drive print
// one event per line): each complete non-empty line is parsed and handed on as it arrives.
import type { Readable } from 'node:stream';

/** Calls `onEvent` with each parsed line of `stream`; a line that is not JSON goes to `onBadLine`. */
export function readJsonLines<T>(stream: Readable, onEvent: (event: T) => void, onBadLine: (line: string) => void): void {
  let buf = '';
  stream.on('data', (d: Buffer) => {
    buf += d.toString();
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (line.trim() === '') continue;
      let event: T;
      try {
        event = JSON.parse(line) as T;
      } catch {
        onBadLine(line);
        continue;
      }
      onEvent(event);
    }
  });
}
