/**
 * A progress bar on stderr for long work, with the rate and an ETA; redrawn at most 10 times a
 * second on a terminal, one line every 5 s otherwise.
 */

export class Progress {
  private done = 0;
  private lastDraw = 0;
  private readonly started = Date.now();
  private readonly tty = process.stderr.isTTY === true;

  constructor(private readonly label: string, private readonly total: number, private readonly unit: string) {}

  add(n: number): void {
    this.done += n;
    const now = Date.now();
    if (now - this.lastDraw >= (this.tty ? 100 : 5000)) this.draw(now);
  }

  private draw(now: number): void {
    this.lastDraw = now;
    const secs = Math.max(0.001, (now - this.started) / 1000);
    const rate = this.done / secs;
    const frac = this.total > 0 ? Math.min(1, this.done / this.total) : 0;
    const eta = rate > 0 && this.total > 0 ? Math.max(0, (this.total - this.done) / rate) : NaN;
    const width = 24;
    const bar = '#'.repeat(Math.round(frac * width)).padEnd(width, '.');
    const line = `${this.label} [${bar}] ${(frac * 100).toFixed(0)}% ${fmt(this.done)}/${fmt(this.total)} ${this.unit} ${fmt(rate)} ${this.unit}/s ETA ${Number.isFinite(eta) ? `${eta.toFixed(0)} s` : '?'}`;
    process.stderr.write(this.tty ? `\r${line}\x1b[K` : `${line}\n`);
  }

  finish(): void {
    this.draw(Date.now());
    if (this.tty) process.stderr.write('\n');
  }
}

function fmt(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)}G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e4) return `${(n / 1e3).toFixed(0)}k`;
  return String(Math.round(n));
}
