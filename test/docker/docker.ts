/**
 * The Docker suite's helpers: the docker CLI run synchronously or not, containers the
 * suite made (labelled, removed after each test), their logs and their processes.
 */
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, inject } from 'vitest';
import { ROOT } from '../helpers/paths.js';

/** The image scripts/docker-images.sh builds from the repository's Dockerfile. */
export const IMAGE = process.env['PIDONE_IMAGE'] ?? 'pidone:test';
/** Derived images whose ENTRYPOINT is a peer's name linked to pidone (global-setup.ts). */
export const COMPAT_IMAGES = { tini: 'pidone-test:tini', 'dumb-init': 'pidone-test:dumb-init' } as const;
/** Every container the suite starts carries it, so that what a failed run left is found. */
export const LABEL = 'pidone-docker-test';
export const PTY_RUN = join(ROOT, 'test', 'helpers', 'pty-run.py');

/** Empty when an engine answers; else the reason the suite skips (never under CI=true). */
export function dockerSkipReason(): string {
  return inject('dockerSkipReason');
}

export interface DockerResult {
  status: number | null;
  stdout: string;
  stderr: string;
  /** Wall time of the docker command, for the tests the issue asks timing of. */
  ms: number;
}

export function docker(args: string[], options: { input?: string; timeoutMs?: number } = {}): DockerResult {
  const start = Date.now();
  const r = spawnSync('docker', args, { encoding: 'utf8', input: options.input ?? '', timeout: options.timeoutMs ?? 90_000 });
  if (r.error) throw new Error(`docker ${args.join(' ')}: ${r.error.message}`);
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - start };
}

/** The docker command in the background: for a `docker stop` while the test goes on. */
export function dockerAsync(args: string[]): Promise<DockerResult> {
  const start = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn('docker', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr, ms: Date.now() - start }));
  });
}

const started = new Set<string>();

/** Removes this file's containers after each test, whatever its outcome. */
export function removeContainersAfterEach(): void {
  afterEach(() => {
    if (started.size === 0) return;
    spawnSync('docker', ['rm', '-f', ...started], { stdio: 'ignore' });
    started.clear();
  });
}

/** The options every container of the suite gets: the label, and no network. */
export function baseRunOptions(): string[] {
  return ['--label', LABEL, '--network', 'none'];
}

/**
 * `docker run -d OPTIONS IMAGE ARGS...` (no --rm: the exit code and the logs are read
 * after it ends); the container id.
 */
export function runDetached(options: string[], image: string, args: string[]): string {
  const r = docker(['run', '-d', ...baseRunOptions(), ...options, image, ...args]);
  if (r.status !== 0) throw new Error(`docker run failed (exit ${r.status}): ${r.stderr}`);
  const id = r.stdout.trim();
  started.add(id);
  return id;
}

/** `docker run --rm` in the foreground: its exit code and output. */
export function runForeground(options: string[], image: string, args: string[], timeoutMs = 90_000): DockerResult {
  return docker(['run', '--rm', ...baseRunOptions(), ...options, image, ...args], { timeoutMs });
}

/** stdout and stderr of a container, as `docker logs` gives them. */
export function logs(id: string): { stdout: string; stderr: string } {
  const r = docker(['logs', id]);
  return { stdout: r.stdout, stderr: r.stderr };
}

export async function sleep(ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls until `check` returns a value other than undefined, or fails naming `what`. */
export async function waitFor<T>(what: string, check: () => T | undefined, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

/**
 * Waits until the container's stdout matches `pattern`; fails at once, with what the
 * container printed, when it has ended without.
 */
export async function waitForOutput(id: string, pattern: RegExp, timeoutMs = 30_000): Promise<string> {
  return waitFor(`${pattern} in the output of ${id.slice(0, 12)}`, () => {
    const { stdout, stderr } = logs(id);
    if (pattern.test(stdout)) return stdout;
    if (docker(['inspect', '--format', '{{.State.Running}}', id]).stdout.trim() === 'false') {
      const { stdout: out, stderr: err } = logs(id);
      if (pattern.test(out)) return out;
      throw new Error(`container ${id.slice(0, 12)} ended without printing ${pattern}; stdout: ${JSON.stringify(out)}, stderr: ${JSON.stringify(err || stderr)}`);
    }
    return undefined;
  }, timeoutMs);
}

/** Waits for the container to end; its exit code (`docker wait`). */
export function waitExit(id: string): number {
  const r = docker(['wait', id]);
  if (r.status !== 0) throw new Error(`docker wait failed: ${r.stderr}`);
  return Number(r.stdout.trim());
}

export interface ContainerProcess {
  pid: number;
  ppid: number;
  state: string;
  comm: string;
}

/**
 * The processes in the container, read from /proc by `docker exec` (the image has no
 * ps). proc(5): /proc/PID/stat is "pid (comm) state ppid ...", and comm may hold
 * spaces and parentheses, so the fields after it are split from the last ')'.
 */
export function processes(id: string): ContainerProcess[] {
  const r = docker(['exec', id, 'sh', '-c', 'for f in /proc/[0-9]*/stat; do cat "$f" 2>/dev/null; echo; done']);
  if (r.status !== 0) throw new Error(`docker exec ${id.slice(0, 12)} failed: ${r.stderr}`);
  const list: ContainerProcess[] = [];
  for (const line of r.stdout.split('\n')) {
    const open = line.indexOf('(');
    const close = line.lastIndexOf(')');
    if (open < 0 || close < open) continue;
    const [state = '', ppid = ''] = line.slice(close + 2).split(' ');
    list.push({ pid: Number(line.slice(0, open).trim()), ppid: Number(ppid), state, comm: line.slice(open + 1, close) });
  }
  return list;
}
