// A running 32-bit FNV-1a hash over everything that happens in a run. Two runs of one seed must
// end with the same value; a difference means something outside the seed leaked in.

export class TraceHash {
  #h = 0x811c9dc5;

  mix(n: number): void {
    // Integers and the -1 / Infinity sentinels the core uses; fractions do not occur.
    let v = Number.isFinite(n) ? n | 0 : n > 0 ? 0x7fffffff : -0x80000000;
    for (let i = 0; i < 4; i++) {
      this.#h = Math.imul(this.#h ^ (v & 0xff), 0x01000193) >>> 0;
      v >>>= 8;
    }
  }

  mixString(s: string): void {
    for (let i = 0; i < s.length; i++) this.#h = Math.imul(this.#h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  }

  get value(): number {
    return this.#h;
  }

  get hex(): string {
    return this.#h.toString(16).padStart(8, '0');
  }
}
