/**
 * Prometheus text exposition format 0.0.4: metric families with HELP and TYPE, then samples.
 * Names are checked when a family opens; label values are escaped.
 */
import type { BucketSnapshot } from './bucket-histogram';
import type { HistogramSnapshot } from './windowed-histogram';

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export type Labels = Readonly<Record<string, string>>;

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Number.POSITIVE_INFINITY) return '+Inf';
  if (v === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(v);
}

export class PrometheusText {
  private readonly lines: string[] = [];
  private readonly families = new Set<string>();

  /** Opens a family; every sample of it must follow before the next family. */
  family(name: string, type: 'counter' | 'gauge' | 'summary' | 'histogram', help: string): this {
    if (!METRIC_NAME.test(name)) throw new Error(`bad metric name ${name}`);
    if (this.families.has(name)) throw new Error(`metric family ${name} twice`);
    this.families.add(name);
    this.lines.push(`# HELP ${name} ${help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`, `# TYPE ${name} ${type}`);
    return this;
  }

  sample(name: string, value: number, labels?: Labels): this {
    let l = '';
    if (labels !== undefined) {
      const parts: string[] = [];
      for (const [k, v] of Object.entries(labels)) {
        if (!LABEL_NAME.test(k)) throw new Error(`bad label name ${k}`);
        parts.push(`${k}="${escapeLabel(v)}"`);
      }
      if (parts.length > 0) l = `{${parts.join(',')}}`;
    }
    this.lines.push(`${name}${l} ${formatValue(value)}`);
    return this;
  }

  /** A one-sample family. */
  single(name: string, type: 'counter' | 'gauge', help: string, value: number): this {
    return this.family(name, type, help).sample(name, value);
  }

  /**
   * A summary: quantiles over the histogram's window (quantile 1 is the window's maximum), count
   * and sum since start; values are divided by `scale` (1e6 turns microseconds into seconds).
   */
  summary(name: string, help: string, s: HistogramSnapshot, scale = 1, labels: Labels = {}): this {
    this.family(name, 'summary', help);
    for (const [q, v] of [['0.5', s.p50], ['0.9', s.p90], ['0.99', s.p99], ['0.999', s.p999], ['1', s.max]] as const) {
      this.sample(name, v / scale, { ...labels, quantile: q });
    }
    this.sample(`${name}_sum`, s.sum / scale, labels);
    return this.sample(`${name}_count`, s.count, labels);
  }

  /**
   * A histogram: cumulative `_bucket` counts per upper bound (`le`, divided by `scale`), +Inf,
   * `_sum` and `_count`, all since start.
   */
  histogram(name: string, help: string, h: BucketSnapshot, scale = 1, labels: Labels = {}): this {
    this.family(name, 'histogram', help);
    let cumulative = 0;
    h.bounds.forEach((bound, i) => {
      cumulative += h.counts[i] ?? 0;
      this.sample(`${name}_bucket`, cumulative, { ...labels, le: formatValue(bound / scale) });
    });
    cumulative += h.counts[h.bounds.length] ?? 0;
    this.sample(`${name}_bucket`, cumulative, { ...labels, le: '+Inf' });
    this.sample(`${name}_sum`, h.sum / scale, labels);
    return this.sample(`${name}_count`, h.count, labels);
  }

  toString(): string {
    return `${this.lines.join('\n')}\n`;
  }
}
