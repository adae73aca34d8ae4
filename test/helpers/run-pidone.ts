/**
 * Runs pidone for real, the two ways it runs in production:
 * - 'pid1': as PID 1 of a fresh PID namespace (unshare --pid --fork --mount-proc);
 * - 'subreaper': as an ordinary process, where it makes itself a child subreaper.
 * Tests drive it from outside with signals and read its stdout (the child's) and its
 * stderr (pidone's JSON logs).
 */
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { fixture, PIDONE } from './paths.js';

export type Mode = 'pid1' | 'subreaper';
export const MODES: readonly Mode[] = ['pid1', 'subreaper'];

export interface StartOptions {
  /** Extra fds: index = fd number, as child_process stdio. */
  readonly stdio?: StdioOptions;
  readonly env?: NodeJS.ProcessEnv;
  /** Keep exactly these fds (and make LIST non-blocking) using the fdexec fixture. */
  readonly keepFds?: { keep: string; nonblock?: string };
}

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export class PidoneRun {
  stdout = '';
  stderr = '';
  readonly exited: Promise<Exit>;
  private stdoutWaiters: Array<() => void> = [];

  constructor(readonly proc: ChildProcess, readonly mode: Mode) {
    proc.stdout?.setEncoding('utf8');
    proc.stdout?.on('data', (chunk: string) => {
      this.stdout += chunk;
      for (const w of this.stdoutWaiters) w();
    });
    proc.stderr?.setEncoding('utf8');
    proc.stderr?.on('data', (chunk: string) => {
      this.stderr += chunk;
    });
    this.exited = new Promise((resolve) => {
      proc.on('close', (code, signal) => resolve({ code, signal }));
    });
  }

  /** pidone's pid as the host sees it (for 'pid1', the child of unshare). */
  async hostPid(timeoutMs = 10_000): Promise<number> {
    if (this.mode === 'subreaper') return this.proc.pid!;
    const unsharePid = this.proc.pid!;
    return poll(() => {
      const kids = childrenOf(unsharePid);
      return kids.length > 0 ? kids[0]! : undefined;
    }, timeoutMs, 'pidone to start under unshare');
  }

  /** Resolves with the first match of `re` on the child's stdout. */
  waitForStdout(re: RegExp, timeoutMs = 20_000): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const m = this.stdout.match(re);
        if (m) {
          clearTimeout(timer);
          this.stdoutWaiters = this.stdoutWaiters.filter((w) => w !== check);
          resolve(m);
        }
      };
      const timer = setTimeout(() => {
        this.stdoutWaiters = this.stdoutWaiters.filter((w) => w !== check);
        reject(new Error(`timed out waiting for ${re} on stdout; got: ${JSON.stringify(this.stdout)}; stderr: ${this.stderr}`));
      }, timeoutMs);
      this.stdoutWaiters.push(check);
      check();
    });
  }

  /** pidone's log lines (JSON), parsed; non-JSON lines are skipped. */
  logs(): Array<Record<string, unknown>> {
    return this.stderr
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  }

  kill(signal: NodeJS.Signals | number): void {
    try {
      this.proc.kill(signal as NodeJS.Signals);
    } catch {
      // Already gone.
    }
  }
}

export function startPidone(mode: Mode, args: readonly string[], options: StartOptions = {}): PidoneRun {
  let argv = [PIDONE, ...args];
  if (options.keepFds) {
    const fdexec = [fixture('fdexec'), options.keepFds.keep];
    if (options.keepFds.nonblock) fdexec.push('--nonblock', options.keepFds.nonblock);
    argv = [...fdexec, '--', ...argv];
  }
  if (mode === 'pid1') argv = ['unshare', '--pid', '--fork', '--mount-proc', ...argv];
  const proc = spawn(argv[0]!, argv.slice(1), {
    stdio: options.stdio ?? ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, ...options.env },
  });
  return new PidoneRun(proc, mode);
}

/** The children of `pid` (all threads), from /proc. */
export function childrenOf(pid: number): number[] {
  const out: number[] = [];
  let tids: string[];
  try {
    tids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/);
  } catch {
    return [];
  }
  for (const t of tids) if (t !== '') out.push(Number(t));
  return out;
}

/** The state letter of a process (proc(5), /proc/PID/stat: R, S, T, Z, ...), or '' when it is gone. */
export function stateOf(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  } catch {
    return '';
  }
}

/** Running: neither gone nor a zombie waiting for its reaper. */
export function isRunning(pid: number): boolean {
  const state = stateOf(pid);
  return state !== '' && state !== 'Z';
}

/** Every signal number written, one per line, in a sigrec log. */
export function readSignalLog(path: string): number[] {
  try {
    return readFileSync(path, 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map(Number);
  } catch {
    return [];
  }
}

/** Poll `probe` until it returns a value (busy, without yielding: for tight races). */
export function pollSync<T>(probe: () => T | undefined, timeoutMs: number): T | undefined {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const v = probe();
    if (v !== undefined) return v;
  }
  return undefined;
}

/** Poll `probe` every few ms until it returns a value. */
export async function poll<T>(probe: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/**
 * The runs and temporary folders of one test file, ended after each test: every
 * pidone started with `start` is SIGKILLed, then each `cleanups` entry runs (the
 * temporary folders' removal among them). Call once, at the top of the file.
 */
export function eachTestCleanup(tempPrefix: string): {
  start: (mode: Mode, args: string[], env?: NodeJS.ProcessEnv) => PidoneRun;
  tempDir: () => string;
  cleanups: Array<() => void>;
} {
  const running: PidoneRun[] = [];
  const cleanups: Array<() => void> = [];
  afterEach(() => {
    for (const run of running.splice(0)) run.kill('SIGKILL');
    for (const c of cleanups.splice(0)) c();
  });
  return {
    start: (mode, args, env) => {
      const run = startPidone(mode, args, env ? { env } : {});
      running.push(run);
      return run;
    },
    tempDir: () => {
      const dir = mkdtempSync(join(tmpdir(), tempPrefix));
      cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
      return dir;
    },
    cleanups,
  };
}
