/** Event-loop delay of one thread (sampled every second), and the process's memory and CPU. */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { PrometheusText } from './prometheus-text';
import { readdirSync, readFileSync } from 'node:fs';
import { WindowedHistogram } from './windowed-histogram';

const SAMPLE_MS = 1000;
const RESOLUTION_MS = 10;

/** The event-loop delay of the thread that creates it. */
export class LoopDelayMonitor {
  private readonly monitor: IntervalHistogram;
  private readonly timer: NodeJS.Timeout;
  /** Largest event-loop delay in the last complete second, in ms. */
  lastSecondMaxDelayMs = 0;
  /** Per-second maxima, µs. */
  readonly delay = new WindowedHistogram();

  constructor(private readonly onSample: () => void = () => undefined) {
    this.monitor = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
    this.monitor.enable();
    this.timer = setInterval(() => this.sample(), SAMPLE_MS);
    this.timer.unref();
  }

  private sample(): void {
    // The histogram is in ns and its samples include the sampling timer's own 10 ms period.
    const maxNs = this.monitor.count > 0 ? Math.max(0, this.monitor.max - RESOLUTION_MS * 1e6) : 0;
    this.lastSecondMaxDelayMs = maxNs / 1e6;
    this.delay.record(maxNs / 1e3);
    this.monitor.reset();
    this.onSample();
  }

  close(): void {
    clearInterval(this.timer);
    this.monitor.disable();
  }
}

/** The whole process (all threads): RSS and its peak, heap of this thread, CPU. */
export class ProcessMetrics {
  private peakRss = 0;
  readonly loop: LoopDelayMonitor;

  constructor() {
    this.loop = new LoopDelayMonitor(() => this.rss());
  }

  /** Resident set size now; the peak is sampled every second. */
  rss(): number {
    const r = process.memoryUsage.rss();
    if (r > this.peakRss) this.peakRss = r;
    return r;
  }

  get peakRssBytes(): number {
    return Math.max(this.peakRss, this.rss());
  }

  /** The conventional process_* families (as Prometheus' client libraries name them), then Sluice's own. */
  render(out: PrometheusText): void {
    const cpu = process.cpuUsage();
    const mem = process.memoryUsage();
    out.single('process_cpu_seconds_total', 'counter', 'User and system CPU time of the process (all threads), in seconds.', (cpu.user + cpu.system) / 1e6);
    out.single('process_resident_memory_bytes', 'gauge', 'Resident set size in bytes.', mem.rss);
    out.single('process_start_time_seconds', 'gauge', 'Start time of the process since the Unix epoch, in seconds.', Math.round((Date.now() - process.uptime() * 1000) / 1000));
    const fds = openFileDescriptors();
    if (fds !== null) out.single('process_open_fds', 'gauge', 'Open file descriptors (sockets, WAL segments, spares).', fds);
    const maxFds = maxFileDescriptors();
    if (maxFds !== null) out.single('process_max_fds', 'gauge', 'Limit on open file descriptors (RLIMIT_NOFILE): connections beyond it are refused by the kernel.', maxFds);
    out.single('sluice_process_resident_memory_peak_bytes', 'gauge', 'Largest resident set size seen (sampled every second).', this.peakRssBytes);
    out.single('sluice_process_heap_used_bytes', 'gauge', 'V8 heap in use on the main thread.', mem.heapUsed);
  }

  close(): void {
    this.loop.close();
  }
}

/** Entries of /proc/self/fd (Linux); null elsewhere. */
function openFileDescriptors(): number | null {
  try {
    return readdirSync('/proc/self/fd').length;
  } catch {
    return null;
  }
}

/** The soft limit of open files from /proc/self/limits (Linux); null elsewhere or unlimited. */
function maxFileDescriptors(): number | null {
  try {
    const m = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    return m === null ? null : Number(m[1]);
  } catch {
    return null;
  }
}
