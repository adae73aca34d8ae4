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
import { describe, expect, it as base } from 'vitest';
import { KernelError, type Kernel, type ReceivedSignal, type WaitStatus } from '../../src/kernel/kernel.js';
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
      const scripts = mkdtempSync(join(tmpdir(), 'pidone-contract-'));
      const notExecutable = join(scripts, 'not-executable');
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
          rmSync(scripts, { recursive: true, force: true });
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

/**
 * One test's view of a kernel: its own kernel object, and its own collectors of what
 * the kernel reported (statuses reaped, signal batches) while that test ran. Nothing
 * carries over from one test to the next, so the tests may run in any order.
 */
class Session {
  readonly kernel: Kernel;
  readonly inspect: Inspect;
  /** Every status reaped during this test, by pid. */
  readonly statuses = new Map<number, WaitStatus>();
  /** Every signal delivered during this test, in order. */
  readonly signals: ReceivedSignal[] = [];
  private readonly command: (role: Role) => string[];
  readonly close: () => void;
  private waiters: Array<() => void> = [];

  constructor(backend: Backend) {
    ({ kernel: this.kernel, command: this.command, close: this.close, inspect: this.inspect } = backend.make());
    this.kernel.onSignal((batch) => {
      this.signals.push(...batch);
      if (batch.some((b) => b.signal === 'SIGCHLD')) this.collect();
      else this.wake();
    });
  }

  /** Reap what the kernel has, then let every waiter look again. */
  collect(): void {
    for (const s of this.kernel.reap().statuses) this.statuses.set(s.pid, s);
    this.wake();
  }

  private wake(): void {
    for (const w of this.waiters) w();
  }

  spawn(role: Role): { pid: number; pgid: number } {
    const [file, ...rest] = this.command(role);
    return this.kernel.spawn({ file: file!, args: [file!, ...rest], env: [PATH], setsid: false, inheritFds: [] });
  }

  /** Resolves with the first defined value of `probe`, looked at on every batch and every 5 ms. */
  until<T>(probe: () => T | undefined, what: string): Promise<T> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), 20_000);
      let poll: NodeJS.Timeout | undefined;
      const check = () => {
        const v = probe();
        if (v === undefined) return;
        clearTimeout(timer);
        clearInterval(poll);
        this.waiters = this.waiters.filter((w) => w !== check);
        resolve(v);
      };
      this.waiters.push(check);
      // Not every change comes with a signal (a fork does not): look again now and then.
      poll = setInterval(check, 5);
      this.collect();
      check();
    });
  }

  exitOf(pid: number): Promise<WaitStatus> {
    return this.until(() => this.statuses.get(pid), `pid ${pid} to exit`);
  }
}

function errorOf(fn: () => unknown): KernelError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(KernelError);
    return e as KernelError;
  }
  throw new Error('expected a KernelError');
}

describe.each(backends)('Kernel contract on $name', (backend) => {
  // Each test gets a fresh Session (kernel and collectors), closed when the test ends.
  const it = base.extend<{ s: Session }>({
    // eslint-disable-next-line no-empty-pattern
    s: async ({}, use) => {
      const session = new Session(backend);
      try {
        await use(session);
      } finally {
        session.close();
      }
    },
  });

  it('spawn: the child exits 0, and its status says so', async ({ s }) => {
    const { pid } = s.spawn('exit0');
    expect(await s.exitOf(pid)).toEqual({ pid, kind: 'exited', code: 0 });
  });

  it('spawn: an exit code passes through', async ({ s }) => {
    const { pid } = s.spawn('exit3');
    expect(await s.exitOf(pid)).toEqual({ pid, kind: 'exited', code: 3 });
  });

  it('spawn: a missing command fails with ENOENT from execve, synchronously', ({ s }) => {
    const e = errorOf(() => s.spawn('missing'));
    expect(e.code).toBe('ENOENT');
    expect(e.syscall).toBe('execve');
  });

  it('spawn: a file that is not executable fails with EACCES from execve', ({ s }) => {
    const e = errorOf(() => s.spawn('notExecutable'));
    expect(e.code).toBe('EACCES');
    expect(e.syscall).toBe('execve');
  });

  it('spawn: the child leads a new process group and is listed as our child', async ({ s }) => {
    const child = s.spawn('sleeper');
    expect(child.pgid).toBe(child.pid);
    expect(s.kernel.listChildren(s.kernel.self().pid)).toContain(child.pid);
    s.kernel.kill(child.pid, 'SIGKILL');
    await s.exitOf(child.pid);
  });

  it('kill: a process dies of the signal, without core', async ({ s }) => {
    const { pid } = s.spawn('sleeper');
    s.kernel.kill(pid, 'SIGTERM');
    expect(await s.exitOf(pid)).toEqual({ pid, kind: 'signaled', signal: 'SIGTERM', core: false });
  });

  it('kill: a negative target signals the whole group', async ({ s }) => {
    const { pid, pgid } = s.spawn('sleeper');
    s.kernel.kill(-pgid, 'SIGKILL');
    expect(await s.exitOf(pid)).toEqual({ pid, kind: 'signaled', signal: 'SIGKILL', core: false });
  });

  it('kill: a process that does not exist is ESRCH, a group too', ({ s }) => {
    const e = errorOf(() => s.kernel.kill(30000, 'SIGTERM'));
    expect([e.code, e.syscall]).toEqual(['ESRCH', 'kill']);
    expect(errorOf(() => s.kernel.kill(-30000, 'SIGTERM')).code).toBe('ESRCH');
  });

  it('kill SIG0: a zombie still exists until reaped, then it is ESRCH', async ({ s }) => {
    const { pid } = s.spawn('sleeper');
    s.kernel.kill(pid, 'SIGKILL');
    await s.exitOf(pid);
    expect(errorOf(() => s.kernel.kill(pid, 'SIG0')).code).toBe('ESRCH');
    expect(() => s.kernel.kill(s.kernel.self().pid, 'SIG0')).not.toThrow();
  });

  it('pidfd: signals the process it was opened on', async ({ s }) => {
    const { pid } = s.spawn('sleeper');
    const fd = s.kernel.pidfdOpen(pid);
    expect(fd).not.toBeNull();
    s.kernel.pidfdSendSignal(fd!, 'SIGTERM');
    s.kernel.pidfdClose(fd!);
    expect(await s.exitOf(pid)).toMatchObject({ kind: 'signaled', signal: 'SIGTERM' });
  });

  it('pidfd_open: ESRCH for a pid that does not exist', ({ s }) => {
    expect(errorOf(() => s.kernel.pidfdOpen(30000)).code).toBe('ESRCH');
  });

  it('listDescendants: finds grandchildren, parents first', async ({ s }) => {
    const parent = s.spawn('parentOfSleeper');
    const grandchild = await s.until(() => s.kernel.listChildren(parent.pid)[0], 'the grandchild');
    const descendants = s.kernel.listDescendants(s.kernel.self().pid);
    expect(descendants.indexOf(parent.pid)).toBeGreaterThanOrEqual(0);
    expect(descendants.indexOf(grandchild)).toBeGreaterThan(descendants.indexOf(parent.pid));
    s.kernel.kill(grandchild, 'SIGKILL');
    expect(await s.exitOf(parent.pid)).toEqual({ pid: parent.pid, kind: 'exited', code: 0 });
  });

  it('procView: the process sees its own /proc', ({ s }) => {
    expect(s.kernel.procView()).toBe('own');
  });

  it('parentOf: a child\'s parent is the caller; 0 for a pid that does not exist', async ({ s }) => {
    const { pid } = s.spawn('sleeper');
    expect(s.kernel.parentOf(pid)).toBe(s.kernel.self().pid);
    expect(s.kernel.parentOf(30000)).toBe(0);
    s.kernel.kill(pid, 'SIGKILL');
    await s.exitOf(pid);
  });

  it('waitableChildren: finds a child without /proc, never a stranger; reaps nothing', async ({ s }) => {
    const self = s.kernel.self();
    expect(s.kernel.pidMax()).toBeGreaterThan(self.pid);
    const { pid } = s.spawn('sleeper');
    expect(s.kernel.waitableChildren(1, s.kernel.pidMax() - 1)).toContain(pid);
    expect(s.kernel.waitableChildren(pid, pid)).toEqual([pid]);
    // The caller's own parent and the caller itself are not its children.
    expect(s.kernel.waitableChildren(self.ppid, self.ppid)).toEqual([]);
    expect(s.kernel.waitableChildren(self.pid, self.pid)).toEqual([]);
    s.kernel.kill(pid, 'SIGKILL');
    const status = await s.exitOf(pid);
    expect(status).toMatchObject({ kind: 'signaled', signal: 'SIGKILL' });
    expect(s.kernel.waitableChildren(pid, pid)).toEqual([]);
  });

  it('reap: with no child left, no status and noChildren', async ({ s }) => {
    await s.until(() => (s.kernel.listChildren(s.kernel.self().pid).length === 0 ? true : undefined), 'no children');
    s.collect();
    expect(s.kernel.reap()).toEqual({ statuses: [], noChildren: true });
  });

  it('onSignal: a signal the process sends itself arrives once, counted as its own', async ({ s }) => {
    s.kernel.kill(s.kernel.self().pid, 'SIGUSR2');
    const got = await s.until(() => s.signals.find((b) => b.signal === 'SIGUSR2'), 'SIGUSR2');
    expect(got).toEqual({ signal: 'SIGUSR2', count: 1, fromSelf: 1 });
  });

  it('setTimer: fires on the kernel clock, not before its time', async ({ s }) => {
    const start = s.kernel.now();
    const fired = await new Promise<number>((resolve) => s.kernel.setTimer(50, () => resolve(s.kernel.now())));
    expect(fired - start).toBeGreaterThanOrEqual(49);
  });

  it('setTimer: a cancelled timer never fires', async ({ s }) => {
    let fired = false;
    s.kernel.setTimer(10, () => (fired = true)).cancel();
    await new Promise<void>((resolve) => s.kernel.setTimer(30, resolve));
    expect(fired).toBe(false);
  });

  it('chdir: the process moves; a child keeps the directory it was started in', async ({ s }) => {
    const self = s.kernel.self().pid;
    const original = s.inspect.cwdOf(self);
    try {
      s.kernel.chdir(s.inspect.directory);
      expect(s.inspect.cwdOf(self)).toBe(s.inspect.directory);
      const before = s.spawn('sleeper');
      s.kernel.chdir('..');
      expect(s.inspect.cwdOf(self)).toBe(s.inspect.directory.slice(0, s.inspect.directory.lastIndexOf('/')) || '/');
      s.kernel.chdir('/');
      expect(s.inspect.cwdOf(self)).toBe('/');
      const after = s.spawn('sleeper');
      expect(s.inspect.cwdOf(before.pid)).toBe(s.inspect.directory);
      expect(s.inspect.cwdOf(after.pid)).toBe('/');
      for (const { pid } of [before, after]) s.kernel.kill(pid, 'SIGKILL');
      await s.exitOf(before.pid);
      await s.exitOf(after.pid);
    } finally {
      s.kernel.chdir(original);
    }
  });

  it('chdir: the empty path is ENOENT', ({ s }) => {
    expect(errorOf(() => s.kernel.chdir(''))).toMatchObject({ code: 'ENOENT', syscall: 'chdir' });
  });

  it('oom_score_adj: raising needs no privilege, and a child inherits the value', async ({ s }) => {
    const self = s.kernel.self().pid;
    const given = s.kernel.oomScoreAdj();
    expect(s.inspect.oomScoreAdjOf(self)).toBe(given);
    try {
      s.kernel.setOomScoreAdj(Math.max(given, 500));
      expect(s.kernel.oomScoreAdj()).toBe(Math.max(given, 500));
      const child = s.spawn('sleeper');
      expect(s.inspect.oomScoreAdjOf(child.pid)).toBe(Math.max(given, 500));
      s.kernel.kill(child.pid, 'SIGKILL');
      await s.exitOf(child.pid);
    } finally {
      // Back down to the value given: without CAP_SYS_RESOURCE the minimum did not move
      // (only a privileged write sets it); with it, no minimum applies.
      s.kernel.setOomScoreAdj(given);
    }
    expect(s.kernel.oomScoreAdj()).toBe(given);
  });

  it('oom_score_adj: out of -1000..1000 is EINVAL; below the minimum needs CAP_SYS_RESOURCE', ({ s }) => {
    expect(errorOf(() => s.kernel.setOomScoreAdj(1001)).code).toBe('EINVAL');
    expect(errorOf(() => s.kernel.setOomScoreAdj(-1001)).code).toBe('EINVAL');
    const given = s.kernel.oomScoreAdj();
    if (s.inspect.capSysResource) {
      s.kernel.setOomScoreAdj(-1000);
      expect(s.kernel.oomScoreAdj()).toBe(-1000);
      s.kernel.setOomScoreAdj(given);
    } else {
      expect(errorOf(() => s.kernel.setOomScoreAdj(-1000))).toMatchObject({ code: 'EACCES', syscall: 'write(oom_score_adj)' });
      expect(s.kernel.oomScoreAdj()).toBe(given);
    }
  });
});
