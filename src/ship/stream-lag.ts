/**
 * How far behind the WAL the stream is, in time: each position the WAL made durable is noted with
 * when (coalesced to one mark per `stepMs`, at most `maxMarks` kept); the lag is the age of the
 * oldest mark the confirmed position has not reached. A mark keeps its first time when later bytes
 * extend it, so the lag errs long by up to a step, never short.
 */
import { comparePositions, type WalPosition } from './stream-checkpoint';

export class LagClock {
  private readonly marks: Array<{ pos: WalPosition; atMs: number }> = [];

  constructor(private readonly stepMs = 100, private readonly maxMarks = 4096) {}

  /** Bytes up to `pos` are durable as of `atMs` (wall clock, so a backlog from before a restart counts). */
  durableAt(pos: WalPosition, atMs: number): void {
    const last = this.marks[this.marks.length - 1];
    if (last !== undefined && comparePositions(pos, last.pos) <= 0) return;
    if (last !== undefined && (atMs - last.atMs < this.stepMs || this.marks.length >= this.maxMarks)) {
      last.pos = pos;
      return;
    }
    this.marks.push({ pos, atMs });
  }

  confirmedUpTo(pos: WalPosition): void {
    let n = 0;
    while (n < this.marks.length && comparePositions(this.marks[n]!.pos, pos) <= 0) n++;
    if (n > 0) this.marks.splice(0, n);
  }

  /** Age of the oldest durable record not yet confirmed in the stream (0 when none). */
  lagMs(nowMs: number): number {
    const first = this.marks[0];
    return first === undefined ? 0 : Math.max(0, nowMs - first.atMs);
  }

  get size(): number {
    return this.marks.length;
  }
}
