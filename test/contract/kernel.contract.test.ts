/**
 * The Kernel contract: one suite, run against every available kernel. The simulator
 * must give the same results and the same KernelError codes as Linux.
 *
 * Programs are named by role; each backend maps a role to what runs it there: a real
 * command on Linux, a scripted program on the simulator.
 */
import { mkdtempSync, readFileSync, readlinkSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, afterAll, beforeAll } from 'vitest';
import { KernelError, type Kernel, type WaitStatus } from '../../src/kernel/kernel.js';
import { LinuxKernel } from '../../src/kernel/linux/linux-kernel.js';
import { loadAddon } from '../../src/kernel/linux/loader.js';
import { SimKernel } from '../../src/kernel/sim/index.js';

type Role = 'exit0' | 'exit3' | 'sleeper' | 'parentOfSleeper' | 'missing' | 'notExecutable';

/** What a test reads from outside the process, as /proc shows it. */
interface Inspect {
  cwdOf(pid: number): string;
  oomScoreAdjOf(pid: number): number;
  /** A directory that exists, not the one the process is in. */
  readonly directory: string;
  /** Whether the process may lower its oom_score_adj below oom_score_adj_min. */
  readonly capSysResource: boolean;
}

interface Backend {
  readonly name: string;
  make(): { kernel: Kernel; command: (role: Role) => string[]; close: () => void; inspect: Inspect };
}

/** CAP_SYS_RESOURCE (capability 24) in this process's effective set. */
function hasCapSysResource(): boolean {
  const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
  return m !== null && (BigInt(`0x${m[1]}`) & (1n << 24n)) !== 0n;
}

const PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

const backends: Backend[] = [
  {
    name: 'linux',
    make() {
      // Inside the test runner: catch only what the suite needs, and give the runner
      // its dispositions back afterwards.
      const kernel = new LinuxKernel(loadAddon(), { signals: ['SIGCHLD', 'SIGUSR2'] });
      // A script without any execute bit: execve(2) says EACCES, even to root.
      const notExecutable = join(mkdtempSync(join(tmpdir(), 'pidone-contract-')), 'not-executable');
      writeFileSync(notExecutable, '#!/bin/sh\nexit 0\n', { mode: 0o644 });
      const directory = realpathSync(mkdtempSync(join(tmpdir(), 'pidone-contract-cwd-')));
      const commands: Record<Role, string[]> = {
        exit0: ['true'],
        exit3: ['sh', '-c', 'exit 3'],
        sleeper: ['sleep', '1000'],
        parentOfSleeper: ['sh', '-c', 'sleep 1000 & wait'],
        missing: ['pidone-contract-no-such-command'],
        notExecutable: [notExecutable],
      };
      return {
        kernel,
        command: (role) => commands[role],
        close: () => {
          kernel.close();
          kernel.restoreSignals();
          rmSync(directory, { recursive: true, force: true });
        },
        inspect: {
          cwdOf: (pid) => readlinkSync(`/proc/${pid}/cwd`),
          oomScoreAdjOf: (pid) => Number(readFileSync(`/proc/${pid}/oom_score_adj`, 'utf8')),
          directory,
          capSysResource: hasCapSysResource(),
        },
      };
    },
  },
  {
    name: 'sim',
    make() {
      const kernel = new SimKernel({
        mode: 'subreaper',
        programs: {
          true: [{ exit: 0 }],
          exit3: [{ exit: 3 }],
          sleep: [{ pause: true }],
          parentOfSleeper: [{ fork: 'sleep' }, { wait: -1 }, { exit: 0 }],
          notExecutable: { steps: [{ exit: 0 }], execError: 'EACCES' },
        },
        cwd: '/srv/app',
        // As under Docker's default capabilities.
        capSysResource: false,
      });
      const commands: Record<Role, string[]> = {
        exit0: ['true'],
        exit3: ['exit3'],
        sleeper: ['sleep', '1000'],
        parentOfSleeper: ['parentOfSleeper'],
        missing: ['pidone-contract-no-such-command'],
        notExecutable: ['notExecutable'],
      };
      return {
        kernel,
        command: (role) => commands[role],
        close: () => kernel.close(),
        inspect: {
          cwdOf: (pid) => kernel.cwdOf(pid),
          oomScoreAdjOf: (pid) => kernel.oomScoreAdjOf(pid),
          directory: '/srv',
          capSysResource: false,
        },
      };
    },
  },
];

describe.each(backends)('Kernel contract on $name', (backend) => {
  let kernel: Kernel;
  let command: (role: Role) => string[];
  let close: () => void;
  let inspect: Inspect;
  const statuses = new Map<number, WaitStatus>();
  let waiters: Array<() => void> = [];
  const batches: Array<{ signal: string; count: number; fromSelf: number }> = [];

  function collect(): void {
    for (const s of kernel.reap().statuses) statuses.set(s.pid, s);
    for (const w of waiters) w();
  }

  beforeAll(() => {
    ({ kernel, command, close, inspect } = backend.make());
    kernel.onSignal((batch) => {
      batches.push(...batch);
      if (batch.some((b) => b.signal === 'SIGCHLD')) collect();
      else for (const w of waiters) w();
    });
  });
  afterAll(() => close());

  function spawn(role: Role): { pid: number; pgid: number } {
    const [file, ...rest] = command(role);
    return kernel.spawn({ file: file!, args: [file!, ...rest], env: [PATH], setsid: false, inheritFds: [] });
  }

  function until<T>(probe: () => T | undefined, what: string): Promise<T> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), 20_000);
      let poll: NodeJS.Timeout | undefined;
      const check = () => {
        const v = probe();
        if (v === undefined) return;
        clearTimeout(timer);
        clearInterval(poll);
        waiters = waiters.filter((w) => w !== check);
        resolve(v);
      };
      waiters.push(check);
      // Not every change comes with a signal (a fork does not): look again now and then.
      poll = setInterval(check, 5);
      collect();
      check();
    });
  }

  const exitOf = (pid: number) => until(() => statuses.get(pid), `pid ${pid} to exit`);

  function errorOf(fn: () => unknown): KernelError {
    try {
      fn();
    } catch (e) {
      expect(e).toBeInstanceOf(KernelError);
      return e as KernelError;
    }
    throw new Error('expected a KernelError');
  }

  it('spawn: the child exits 0, and its status says so', async () => {
    const { pid } = spawn('exit0');
    expect(await exitOf(pid)).toEqual({ pid, kind: 'exited', code: 0 });
  });

  it('spawn: an exit code passes through', async () => {
    const { pid } = spawn('exit3');
    expect(await exitOf(pid)).toEqual({ pid, kind: 'exited', code: 3 });
  });

  it('spawn: a missing command fails with ENOENT from execve, synchronously', () => {
    const e = errorOf(() => spawn('missing'));
    expect(e.code).toBe('ENOENT');
    expect(e.syscall).toBe('execve');
  });

  it('spawn: a file that is not executable fails with EACCES from execve', () => {
    const e = errorOf(() => spawn('notExecutable'));
    expect(e.code).toBe('EACCES');
    expect(e.syscall).toBe('execve');
  });

  it('spawn: the child leads a new process group and is listed as our child', async () => {
    const child = spawn('sleeper');
    expect(child.pgid).toBe(child.pid);
    expect(kernel.listChildren(kernel.self().pid)).toContain(child.pid);
    kernel.kill(child.pid, 'SIGKILL');
    await exitOf(child.pid);
  });

  it('kill: a process dies of the signal, without core', async () => {
    const { pid } = spawn('sleeper');
    kernel.kill(pid, 'SIGTERM');
    expect(await exitOf(pid)).toEqual({ pid, kind: 'signaled', signal: 'SIGTERM', core: false });
  });

  it('kill: a negative target signals the whole group', async () => {
    const { pid, pgid } = spawn('sleeper');
    kernel.kill(-pgid, 'SIGKILL');
    expect(await exitOf(pid)).toEqual({ pid, kind: 'signaled', signal: 'SIGKILL', core: false });
  });

  it('kill: a process that does not exist is ESRCH, a group too', () => {
    const e = errorOf(() => kernel.kill(30000, 'SIGTERM'));
    expect([e.code, e.syscall]).toEqual(['ESRCH', 'kill']);
    expect(errorOf(() => kernel.kill(-30000, 'SIGTERM')).code).toBe('ESRCH');
  });

  it('kill SIG0: a zombie still exists until reaped, then it is ESRCH', async () => {
    const { pid } = spawn('sleeper');
    kernel.kill(pid, 'SIGKILL');
    await exitOf(pid);
    expect(errorOf(() => kernel.kill(pid, 'SIG0')).code).toBe('ESRCH');
    expect(() => kernel.kill(kernel.self().pid, 'SIG0')).not.toThrow();
  });

  it('pidfd: signals the process it was opened on', async () => {
    const { pid } = spawn('sleeper');
    const fd = kernel.pidfdOpen(pid);
    expect(fd).not.toBeNull();
    kernel.pidfdSendSignal(fd!, 'SIGTERM');
    kernel.pidfdClose(fd!);
    expect(await exitOf(pid)).toMatchObject({ kind: 'signaled', signal: 'SIGTERM' });
  });

  it('pidfd_open: ESRCH for a pid that does not exist', () => {
    expect(errorOf(() => kernel.pidfdOpen(30000)).code).toBe('ESRCH');
  });

  it('listDescendants: finds grandchildren, parents first', async () => {
    const parent = spawn('parentOfSleeper');
    const grandchild = await until(() => kernel.listChildren(parent.pid)[0], 'the grandchild');
    const descendants = kernel.listDescendants(kernel.self().pid);
    expect(descendants.indexOf(parent.pid)).toBeGreaterThanOrEqual(0);
    expect(descendants.indexOf(grandchild)).toBeGreaterThan(descendants.indexOf(parent.pid));
    kernel.kill(grandchild, 'SIGKILL');
    expect(await exitOf(parent.pid)).toEqual({ pid: parent.pid, kind: 'exited', code: 0 });
  });

  it('procView: the process sees its own /proc', () => {
    expect(kernel.procView()).toBe('own');
  });

  it('parentOf: a child\'s parent is the caller; 0 for a pid that does not exist', async () => {
    const { pid } = spawn('sleeper');
    expect(kernel.parentOf(pid)).toBe(kernel.self().pid);
    expect(kernel.parentOf(30000)).toBe(0);
    kernel.kill(pid, 'SIGKILL');
    await exitOf(pid);
  });

  it('waitableChildren: finds a child without /proc, never a stranger; reaps nothing', async () => {
    const self = kernel.self();
    expect(kernel.pidMax()).toBeGreaterThan(self.pid);
    const { pid } = spawn('sleeper');
    expect(kernel.waitableChildren(1, kernel.pidMax() - 1)).toContain(pid);
    expect(kernel.waitableChildren(pid, pid)).toEqual([pid]);
    // The caller's own parent and the caller itself are not its children.
    expect(kernel.waitableChildren(self.ppid, self.ppid)).toEqual([]);
    expect(kernel.waitableChildren(self.pid, self.pid)).toEqual([]);
    kernel.kill(pid, 'SIGKILL');
    const status = await exitOf(pid);
    expect(status).toMatchObject({ kind: 'signaled', signal: 'SIGKILL' });
    expect(kernel.waitableChildren(pid, pid)).toEqual([]);
  });

  it('reap: with no child left, no status and noChildren', async () => {
    await until(() => (kernel.listChildren(kernel.self().pid).length === 0 ? true : undefined), 'no children');
    collect();
    expect(kernel.reap()).toEqual({ statuses: [], noChildren: true });
  });

  it('onSignal: a signal the process sends itself arrives once, counted as its own', async () => {
    batches.length = 0;
    kernel.kill(kernel.self().pid, 'SIGUSR2');
    const got = await until(() => batches.find((b) => b.signal === 'SIGUSR2'), 'SIGUSR2');
    expect(got).toEqual({ signal: 'SIGUSR2', count: 1, fromSelf: 1 });
  });

  it('setTimer: fires on the kernel clock, not before its time', async () => {
    const start = kernel.now();
    const fired = await new Promise<number>((resolve) => kernel.setTimer(50, () => resolve(kernel.now())));
    expect(fired - start).toBeGreaterThanOrEqual(49);
  });

  it('setTimer: a cancelled timer never fires', async () => {
    let fired = false;
    kernel.setTimer(10, () => (fired = true)).cancel();
    await new Promise<void>((resolve) => kernel.setTimer(30, resolve));
    expect(fired).toBe(false);
  });

  it('chdir: the process moves; a child keeps the directory it was started in', async () => {
    const self = kernel.self().pid;
    const original = inspect.cwdOf(self);
    try {
      kernel.chdir(inspect.directory);
      expect(inspect.cwdOf(self)).toBe(inspect.directory);
      const before = spawn('sleeper');
      kernel.chdir('..');
      expect(inspect.cwdOf(self)).toBe(inspect.directory.slice(0, inspect.directory.lastIndexOf('/')) || '/');
      kernel.chdir('/');
      expect(inspect.cwdOf(self)).toBe('/');
      const after = spawn('sleeper');
      expect(inspect.cwdOf(before.pid)).toBe(inspect.directory);
      expect(inspect.cwdOf(after.pid)).toBe('/');
      for (const { pid } of [before, after]) kernel.kill(pid, 'SIGKILL');
      await exitOf(before.pid);
      await exitOf(after.pid);
    } finally {
      kernel.chdir(original);
    }
  });

  it('chdir: the empty path is ENOENT', () => {
    expect(errorOf(() => kernel.chdir(''))).toMatchObject({ code: 'ENOENT', syscall: 'chdir' });
  });

  it('oom_score_adj: raising needs no privilege, and a child inherits the value', async () => {
    const self = kernel.self().pid;
    const given = kernel.oomScoreAdj();
    expect(inspect.oomScoreAdjOf(self)).toBe(given);
    try {
      kernel.setOomScoreAdj(Math.max(given, 500));
      expect(kernel.oomScoreAdj()).toBe(Math.max(given, 500));
      const child = spawn('sleeper');
      expect(inspect.oomScoreAdjOf(child.pid)).toBe(Math.max(given, 500));
      kernel.kill(child.pid, 'SIGKILL');
      await exitOf(child.pid);
    } finally {
      // Back down to the value given: without CAP_SYS_RESOURCE the minimum did not move
      // (only a privileged write sets it); with it, no minimum applies.
      kernel.setOomScoreAdj(given);
    }
    expect(kernel.oomScoreAdj()).toBe(given);
  });

  it('oom_score_adj: out of -1000..1000 is EINVAL; below the minimum needs CAP_SYS_RESOURCE', () => {
    expect(errorOf(() => kernel.setOomScoreAdj(1001)).code).toBe('EINVAL');
    expect(errorOf(() => kernel.setOomScoreAdj(-1001)).code).toBe('EINVAL');
    const given = kernel.oomScoreAdj();
    if (inspect.capSysResource) {
      kernel.setOomScoreAdj(-1000);
      expect(kernel.oomScoreAdj()).toBe(-1000);
      kernel.setOomScoreAdj(given);
    } else {
      expect(errorOf(() => kernel.setOomScoreAdj(-1000))).toMatchObject({ code: 'EACCES', syscall: 'write(oom_score_adj)' });
      expect(kernel.oomScoreAdj()).toBe(given);
    }
  });
});
