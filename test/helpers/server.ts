/** Starts a real `node dist/server` for a test and reads back what it stored. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeRecord, type DecodedPayload } from './records';
import { scanSegmentFile } from '../../src/wal/segment-scanner';
import { FrameKind } from '../../src/wal/segment-format';
import { SEGMENT_NAME } from '../../src/wal/wal-files';

export const ROOT = join(__dirname, '..', '..');

export interface StartOptions {
  /** Configuration object written as JSON (HOCON text when a string). */
  config?: Record<string, unknown> | string;
  env?: Record<string, string>;
  /** Extra arguments. */
  args?: string[];
  /** Wait until the shipper answered too (default true; false when shipping is off or S3 is down). */
  waitShipper?: boolean;
}

export interface RunningServer {
  port: number;
  /** The admin port (metrics, health detail, status page); null when disabled. */
  adminPort: number | null;
  walDir: string;
  proc: ChildProcess;
  /** Everything the process printed so far. */
  output(): string;
  goodFrames(): Buffer[];
  badFrames(): Buffer[];
  records(): DecodedPayload[];
  badRows(): Record<string, unknown>[];
  /** Sends `signal` and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  exited: Promise<number | null>;
}

/** Payloads of one kind from every segment of a WAL directory, in sequence order (open one included). */
export function walPayloads(walDir: string, kind: FrameKind): Buffer[] {
  if (!existsSync(walDir)) return [];
  const out: Buffer[] = [];
  for (const name of readdirSync(walDir).filter((n) => SEGMENT_NAME.test(n)).sort()) {
    const scan = scanSegmentFile(join(walDir, name));
    if (typeof scan === 'string') throw new Error(`${name}: ${scan}`);
    for (const r of scan.records) if (r.kind === kind) out.push(r.payload);
  }
  return out;
}

export async function startServer(opts: StartOptions = {}): Promise<RunningServer> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-test-'));
  const walDir = join(dir, 'wal');
  const args = [join(ROOT, 'dist', 'server.js')];
  if (opts.config !== undefined) {
    const file = join(dir, typeof opts.config === 'string' ? 'collector.hocon' : 'collector.json');
    writeFileSync(file, typeof opts.config === 'string' ? opts.config : JSON.stringify(opts.config));
    args.push('--config', file);
  }
  args.push(...(opts.args ?? []));
  const proc = spawn(process.execPath, args, {
    env: {
      ...process.env, SLUICE_PORT: '0', SLUICE_WAL_DIR: walDir, SLUICE_WAL_SEGMENT_BYTES: String(16 * 1024 * 1024),
      SLUICE_EMBEDDED_S3_PORT: '0', SLUICE_EMBEDDED_S3_DIR: join(dir, 's3'), SLUICE_ADMIN_PORT: '0', ...opts.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  let adminPort: number | null = null;
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL'); // never leave a half-started server behind
      reject(new Error(`server did not start:\n${out}`));
    }, 15_000);
    const onData = (d: Buffer): void => {
      out += d.toString();
      const m = /"port":(\d+)[^\n]*"msg":"listening"/.exec(out);
      const shipping = !/"shipping":false/.test(out);
      if (m !== null && (!shipping || opts.waitShipper === false || /"msg":"shipper ready"/.test(out))) {
        clearTimeout(timer);
        const a = /"adminPort":(\d+)/.exec(out);
        adminPort = a === null ? null : Number(a[1]);
        resolve(Number(m[1]));
      }
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before listening:\n${out}`));
    });
  });
  const goodFrames = (): Buffer[] => walPayloads(walDir, FrameKind.Good);
  const badFrames = (): Buffer[] => walPayloads(walDir, FrameKind.Bad);
  return {
    port,
    adminPort,
    walDir,
    proc,
    output: () => out,
    goodFrames,
    badFrames,
    records: () => goodFrames().map(decodeRecord),
    badRows: () => badFrames().map((b) => JSON.parse(b.toString('utf8')) as Record<string, unknown>),
    stop: async (signal: NodeJS.Signals = 'SIGKILL') => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      return exited;
    },
    exited,
  };
}

/** Starts servers for one test file and stops them all when the file's tests end. */
export function serverPool(t: { teardown(fn: () => unknown): void }): (config?: Record<string, unknown> | string, env?: Record<string, string>) => Promise<RunningServer> {
  const servers: RunningServer[] = [];
  t.teardown(async () => { await Promise.all(servers.map((s) => s.stop())); });
  return async (config, env) => {
    const s = await startServer({ ...(config === undefined ? {} : { config }), ...(env === undefined ? {} : { env }) });
    servers.push(s);
    return s;
  };
}

/**
 * Runs `node dist/server` until it exits (a start that must fail), ports on 0 unless `env` sets
 * them; killed after 30 s. Its exit code and what it printed.
 */
export function runServerToExit(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [join(ROOT, 'dist', 'server.js')], {
      env: { ...process.env, SLUICE_PORT: '0', SLUICE_ADMIN_PORT: '0', SLUICE_EMBEDDED_S3_PORT: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    p.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const timer = setTimeout(() => p.kill('SIGKILL'), 30_000);
    p.on('exit', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
  });
}
