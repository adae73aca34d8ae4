/**
 * Runs pidone as the entrypoint of a real OCI container, under runc (Debian's), the
 * way the Dockerfile's image runs it: there is no Docker engine on these machines, so
 * the image's layout is assembled as a rootfs instead.
 *
 * - scripts/stage-image.js lays out /opt/pidone exactly as the Dockerfile's final
 *   stage does (the Dockerfile runs the same script); it is bind-mounted read-only.
 * - The rest of the rootfs is the host's /usr and /etc, read-only (the base image's
 *   part: Node, sh, coreutils), with /bin, /sbin, /lib, /lib64 as the host has them
 *   (symlinks into usr/ on a merged-/usr system, else bind mounts), a tmpfs /tmp, and
 *   runc's own /proc, /dev, /sys.
 * - config.json comes from `runc spec`, edited: process.args = the entrypoint + the
 *   command, no terminal, a hostname, its own PID namespace (pidone is PID 1).
 * - Each container has a unique id and a private runc state dir (--root), and is
 *   killed and deleted after its test whatever happened.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe } from 'vitest';
import { ROOT } from '../helpers/paths.js';
import { inCiAsRoot, type Support } from '../helpers/privilege.js';

/** Where the image puts pidone; ENTRYPOINT's `pidone` is a symlink to its launcher. */
export const IMAGE_PIDONE_DIR = '/opt/pidone';
export const IMAGE_PIDONE = `${IMAGE_PIDONE_DIR}/bin/pidone`;

const RUNC = process.env['RUNC'] ?? 'runc';

export interface RuncExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** performance.now() when runc exited. */
  readonly at: number;
}

/** A running (or finished) container: pidone as its init, driven from outside. */
export class Container {
  stdout = '';
  stderr = '';
  readonly exited: Promise<RuncExit>;
  private readonly proc: ChildProcess;
  private waiters: Array<() => void> = [];

  constructor(
    readonly id: string,
    private readonly stateDir: string,
    readonly bundle: string,
  ) {
    this.proc = spawn(RUNC, ['--root', stateDir, 'run', '--bundle', bundle, id], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc.stdout!.setEncoding('utf8');
    this.proc.stdout!.on('data', (chunk: string) => {
      this.stdout += chunk;
      for (const w of this.waiters) w();
    });
    this.proc.stderr!.setEncoding('utf8');
    this.proc.stderr!.on('data', (chunk: string) => {
      this.stderr += chunk;
    });
    this.exited = new Promise((resolve) => {
      this.proc.on('close', (code, signal) => resolve({ code, signal, at: performance.now() }));
    });
  }

  /** `runc kill ID SIGNAL`: the signal goes to the container's init, pidone. */
  kill(signal: string): void {
    const r = spawnSync(RUNC, ['--root', this.stateDir, 'kill', this.id, signal], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`runc kill ${this.id} ${signal} failed: ${r.stderr.trim()}`);
  }

  /** The container's init (pidone) as the host sees it, from `runc state`. */
  hostPid(): number {
    const r = spawnSync(RUNC, ['--root', this.stateDir, 'state', this.id], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`runc state ${this.id} failed: ${r.stderr.trim()}`);
    return (JSON.parse(r.stdout) as { pid: number }).pid;
  }

  /** Resolves with the first match of `re` on the container's stdout. */
  waitForStdout(re: RegExp, timeoutMs = 20_000): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const m = this.stdout.match(re);
        if (!m) return;
        clearTimeout(timer);
        this.waiters = this.waiters.filter((w) => w !== check);
        resolve(m);
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== check);
        reject(new Error(`timed out waiting for ${re} on the container's stdout; got ${JSON.stringify(this.stdout)}; stderr: ${this.stderr}`));
      }, timeoutMs);
      this.waiters.push(check);
      check();
    });
  }

  /**
   * Resolves once pidone has logged `msg` (run it with -v): its policy is loaded and
   * handling signals. The child may be running before that (pidone spawns it first
   * and loads the rest meanwhile; signals sent then are held, not lost), so timing a
   * stop from a moment before it would time pidone's start-up on a busy machine.
   */
  async waitForLog(msg: string, timeoutMs = 20_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (!this.logs().some((l) => l['msg'] === msg)) {
      if (Date.now() > end) throw new Error(`timed out waiting for pidone to log '${msg}'; stderr: ${this.stderr}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** pidone's JSON log lines (its stderr is the container's). */
  logs(): Array<Record<string, unknown>> {
    return this.stderr
      .split('\n')
      .filter((l) => l.startsWith('{') && l.endsWith('}'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  }

  /** Kill and delete the container, whatever state it is in; never throws. */
  async destroy(): Promise<void> {
    spawnSync(RUNC, ['--root', this.stateDir, 'kill', this.id, 'KILL'], { stdio: 'ignore' });
    const timeout = new Promise((r) => setTimeout(r, 5000));
    await Promise.race([this.exited, timeout]);
    this.proc.kill('SIGKILL');
    spawnSync(RUNC, ['--root', this.stateDir, 'delete', '--force', this.id], { stdio: 'ignore' });
  }
}

export interface RunOptions {
  /** pidone's arguments (flags, `--`, the command): process.args is the entrypoint, then these. */
  readonly args: readonly string[];
  /** Extra environment, NAME=value. */
  readonly env?: readonly string[];
  /** process.args exactly as given, without pidone and its mount (the support probe). */
  readonly raw?: boolean;
}

/**
 * Host directories the rootfs takes from the host, read-only: the base image's part.
 * On a merged-/usr system /bin, /sbin, /lib and /lib64 are symlinks into usr/.
 */
const HOST_DIRS = ['usr', 'etc', 'bin', 'sbin', 'lib', 'lib64'];

/** One place for all of a test file's containers: the staged image, the runc state, the bundles. */
export class ContainerLab {
  private readonly dir: string;
  private readonly stateDir: string;
  private readonly staged: string;
  private readonly containers: Container[] = [];
  private counter = 0;

  constructor() {
    this.dir = mkdtempSync(join(tmpdir(), 'pidone-runc-'));
    this.stateDir = join(this.dir, 'state');
    this.staged = join(this.dir, 'opt-pidone');
    mkdirSync(this.stateDir);
  }

  /** Lay out /opt/pidone as the Dockerfile's final stage does (scripts/stage-image.js). */
  stageImage(): void {
    const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'stage-image.js'), this.staged], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`scripts/stage-image.js failed: ${r.stderr}${r.stdout}`);
  }

  /** Start a container whose init is pidone: `pidone [args]` (the args include `--` and the command). */
  run(options: RunOptions): Container {
    const { id, bundle } = this.bundle(options);
    const container = new Container(id, this.stateDir, bundle);
    this.containers.push(container);
    return container;
  }

  /** Write a bundle (rootfs of mounts + config.json) under a fresh, unique container id. */
  bundle(options: RunOptions): { id: string; bundle: string } {
    const id = `pidone-test-${process.pid}-${++this.counter}-${Math.random().toString(36).slice(2, 8)}`;
    const bundle = join(this.dir, id);
    const rootfs = join(bundle, 'rootfs');
    mkdirSync(rootfs, { recursive: true });
    const mounts: Array<Record<string, unknown>> = [];
    for (const name of HOST_DIRS) {
      const host = `/${name}`;
      if (!existsSync(host)) continue;
      if (lstatSync(host).isSymbolicLink()) {
        symlinkSync(readlinkSync(host), join(rootfs, name));
      } else {
        mkdirSync(join(rootfs, name));
        mounts.push({ destination: host, type: 'bind', source: host, options: ['rbind', 'ro', 'nosuid', 'nodev'] });
      }
    }
    for (const name of ['proc', 'dev', 'sys', 'tmp', 'opt/pidone']) mkdirSync(join(rootfs, name), { recursive: true });
    if (!options.raw) mounts.push({ destination: IMAGE_PIDONE_DIR, type: 'bind', source: this.staged, options: ['rbind', 'ro', 'nosuid', 'nodev'] });
    mounts.push({ destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'mode=1777', 'size=16m'] });

    const spec = spawnSync(RUNC, ['spec', '--bundle', bundle], { encoding: 'utf8' });
    if (spec.status !== 0) throw new Error(`runc spec failed: ${spec.stderr}`);
    const configPath = join(bundle, 'config.json');
    const config = JSON.parse(readFileSync(configPath, 'utf8')) as OciConfig;
    config.process.terminal = false;
    config.process.args = options.raw ? [...options.args] : [IMAGE_PIDONE, ...options.args];
    config.process.env = [...config.process.env.filter((e) => !e.startsWith('TERM=')), ...(options.env ?? [])];
    config.hostname = 'pidone-test';
    config.root = { path: 'rootfs', readonly: true };
    config.mounts = [...config.mounts, ...mounts];
    // A PID namespace (pidone is its PID 1) and a mount namespace; no network one: the
    // tests need no network, and leaving the host's keeps the container cheap.
    config.linux.namespaces = config.linux.namespaces.filter((ns) => ns.type !== 'network');
    if (!config.linux.namespaces.some((ns) => ns.type === 'pid')) config.linux.namespaces.push({ type: 'pid' });
    writeFileSync(configPath, JSON.stringify(config, null, 2));
    return { id, bundle };
  }

  /** Run a raw bundle to completion (the support probe); returns runc's result. */
  runToCompletion(options: RunOptions, timeoutMs: number): { status: number | null; stderr: string; error?: Error } {
    const { id, bundle } = this.bundle(options);
    try {
      const r = spawnSync(RUNC, ['--root', this.stateDir, 'run', '--bundle', bundle, id], {
        encoding: 'utf8',
        timeout: timeoutMs,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      return { status: r.status, stderr: r.stderr ?? '', ...(r.error ? { error: r.error } : {}) };
    } finally {
      spawnSync(RUNC, ['--root', this.stateDir, 'delete', '--force', id], { stdio: 'ignore' });
      rmSync(bundle, { recursive: true, force: true });
    }
  }

  /** Destroy the containers of the test that just ran. */
  async cleanupContainers(): Promise<void> {
    for (const c of this.containers.splice(0)) {
      await c.destroy();
      rmSync(c.bundle, { recursive: true, force: true });
    }
  }

  async dispose(): Promise<void> {
    await this.cleanupContainers();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

interface OciConfig {
  process: { terminal: boolean; args: string[]; env: string[] };
  hostname?: string;
  root: { path: string; readonly: boolean };
  mounts: Array<Record<string, unknown>>;
  linux: { namespaces: Array<{ type: string; path?: string }> };
}

let cached: Support | undefined;

/**
 * Can this machine run a container under runc? Runs `true` in a minimal container of
 * host bind mounts, the same kind the tests use.
 */
export function runcSupport(): Support {
  if (cached) return cached;
  const version = spawnSync(RUNC, ['--version'], { encoding: 'utf8' });
  if (version.error) {
    cached = { ok: false, reason: `runc is not available (${version.error.message}); install it (apt-get install runc)` };
    return cached;
  }
  if (process.getuid?.() !== 0) {
    cached = { ok: false, reason: 'runc needs root here (rootless runc needs cgroup v2 delegation)' };
    return cached;
  }
  const lab = new ContainerLab();
  try {
    // /bin/true directly, not pidone: a pidone bug must fail a test, not skip it.
    const r = lab.runToCompletion({ args: ['/bin/true'], raw: true }, 30_000);
    cached =
      r.status === 0
        ? { ok: true, reason: '' }
        : { ok: false, reason: `runc cannot run a container here: ${(r.stderr || r.error?.message || `exit ${r.status}`).trim()}` };
  } finally {
    void lab.dispose();
  }
  return cached;
}

/**
 * describe() for tests that need runc: skipped with a printed reason where runc cannot
 * run containers, except in CI as root, where the block fails instead.
 */
export function describeWithRunc(name: string, fn: () => void): void {
  const support = runcSupport();
  if (support.ok) {
    describe(name, fn);
    return;
  }
  if (inCiAsRoot) {
    describe(name, () => {
      throw new Error(`${name}: needs runc, which CI as root must have: ${support.reason}`);
    });
    return;
  }
  console.warn(`skipping "${name}": ${support.reason}`);
  describe.skip(name, fn);
}
