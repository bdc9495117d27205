/**
 * Figures of the reliability suite: each scenario writes one JSON file under
 * test/artifacts/reliability/, and scripts/reliability-report.js turns them into
 * docs/RELIABILITY.md (npm run reliability). A scenario passes only with no acknowledged event
 * lost, no duplicate of an acknowledged event and no crash.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './server';

export const RELIABILITY_DIR = join(ROOT, 'test', 'artifacts', 'reliability');

export interface ScenarioFigures {
  /** Stable id: the row of the table. */
  id: string;
  group: 'crash' | 'fault' | 'fuzz' | 'security' | 'soak';
  title: string;
  acknowledged?: number;
  lost?: number;
  duplicates?: number;
  kills?: number;
  inputs?: number;
  crashes?: number;
  /** Largest resident set size of the collector process(es), bytes (VmHWM). */
  peakRssBytes?: number;
  checks?: number;
  notes?: string;
}

export interface ScenarioResult extends ScenarioFigures {
  passed: boolean;
  at: string;
}

/** Writes the scenario's figures; `passed` also requires no loss, duplicate or crash. */
export function recordScenario(f: ScenarioFigures, passed: boolean): void {
  mkdirSync(RELIABILITY_DIR, { recursive: true });
  const ok = passed && (f.lost ?? 0) === 0 && (f.duplicates ?? 0) === 0 && (f.crashes ?? 0) === 0;
  const r: ScenarioResult = { ...f, passed: ok, at: new Date().toISOString() };
  writeFileSync(join(RELIABILITY_DIR, `${f.id}.json`), `${JSON.stringify(r, null, 2)}\n`);
}

/** Peak RSS of a live process (VmHWM from /proc), bytes; 0 when it is gone. */
export function peakRss(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const m = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m === null ? 0 : Number(m[1]) * 1024;
  } catch {
    return 0;
  }
}
