/**
 * The open segment's durable end, shared by the HTTP thread (writer, after every sync) and the
 * stream thread (reader) through a SharedArrayBuffer: a seqlock of two 64-bit words, so a sync
 * costs the writer four atomic stores and a notify instead of a message per sync. The reader
 * waits on the version word (Atomics.waitAsync) and reads a consistent (segment, bytes) pair.
 */
export const DURABLE_MARK_BYTES = 24;

export interface DurableMarkValue {
  seq: number;
  bytes: number;
  /** Changes with every publish (even numbers only between writes). */
  version: number;
}

function views(sab: SharedArrayBuffer): { version: Int32Array; words: BigInt64Array } {
  if (sab.byteLength < DURABLE_MARK_BYTES) throw new Error(`durable mark needs ${DURABLE_MARK_BYTES} bytes, got ${sab.byteLength}`);
  return { version: new Int32Array(sab, 0, 2), words: new BigInt64Array(sab, 8, 2) };
}

export class DurableMarkWriter {
  readonly buffer = new SharedArrayBuffer(DURABLE_MARK_BYTES);
  private readonly v = views(this.buffer);

  publish(seq: number, bytes: number): void {
    Atomics.add(this.v.version, 0, 1); // odd: a write is under way
    Atomics.store(this.v.words, 0, BigInt(seq));
    Atomics.store(this.v.words, 1, BigInt(bytes));
    Atomics.add(this.v.version, 0, 1);
    Atomics.notify(this.v.version, 0);
  }
}

export class DurableMarkReader {
  private readonly v: ReturnType<typeof views>;

  constructor(sab: SharedArrayBuffer) {
    this.v = views(sab);
  }

  /** The last published mark (version 0 and seq -1 before the first). */
  read(): DurableMarkValue {
    for (;;) {
      const before = Atomics.load(this.v.version, 0);
      if ((before & 1) === 1) continue;
      const seq = Atomics.load(this.v.words, 0);
      const bytes = Atomics.load(this.v.words, 1);
      if (Atomics.load(this.v.version, 0) === before) {
        return before === 0 ? { seq: -1, bytes: 0, version: 0 } : { seq: Number(seq), bytes: Number(bytes), version: before };
      }
    }
  }

  /** Resolves when the mark changes from `version`, or after `timeoutMs`. */
  async changed(version: number, timeoutMs: number): Promise<void> {
    const w = Atomics.waitAsync(this.v.version, 0, version, timeoutMs);
    if (w.async) await w.value;
  }
}
