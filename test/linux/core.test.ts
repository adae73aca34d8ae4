/**
 * pidone core on the real kernel, as PID 1 of a PID namespace and as a subreaper:
 * reaping, forwarding, exit codes, inherited state, and the pitfalls of Node as an init
 * (docs/decisions.md: fds Node marks close-on-exec, stdio it makes non-blocking, the
 * signal state it leaves behind).
 */
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { fixture } from '../helpers/paths.js';
import { describeWithNamespaces } from '../helpers/privilege.js';
import {
  MODES,
  childrenOf,
  poll,
  pollSync,
  readSignalLog,
  startPidone,
  type Mode,
  type PidoneRun,
} from '../helpers/run-pidone.js';

const running: PidoneRun[] = [];
const dirs: string[] = [];
afterEach(() => {
  for (const run of running.splice(0)) run.kill('SIGKILL');
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function start(mode: Mode, args: string[], options?: Parameters<typeof startPidone>[2]): PidoneRun {
  const run = startPidone(mode, args, options);
  running.push(run);
  return run;
}

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pidone-test-'));
  dirs.push(dir);
  return dir;
}

/** The signals the issue lists, with the number each has on Linux. */
const FORWARDED: Array<[string, number]> = [
  ['SIGTERM', 15],
  ['SIGINT', 2],
  ['SIGHUP', 1],
  ['SIGQUIT', 3],
  ['SIGUSR1', 10],
  ['SIGUSR2', 12],
  ['SIGWINCH', 28],
  ['SIGALRM', 14],
  ['SIGCONT', 18],
  ['SIGRTMIN+1', 35],
];

for (const mode of MODES) {
  describeWithNamespaces(`pidone core on Linux as ${mode === 'pid1' ? 'PID 1 of a PID namespace' : 'a subreaper'}`, () => {
    it('reaps 2,000 double-forked orphans, leaves no zombie, exits with the workload code', async () => {
      const run = start(mode, ['-vv', '--', fixture('orphans'), '2000', '7']);
      const exit = await run.exited;
      expect(run.stdout).toContain('orphans 2000 zombies 0');
      expect(exit.code).toBe(7);
      const reaped = run.logs().filter((l) => l['msg'] === 'reaped orphan');
      expect(reaped).toHaveLength(2000);
    });

    it('forwards each signal once to the child and to a grandchild in its group', async () => {
      const dir = tempDir();
      const run = start(mode, ['--', fixture('sigrec'), dir, '--grandchild']);
      await run.waitForStdout(/ready \d+ \d+/);
      const pidone = await run.hostPid();
      for (const [name, num] of FORWARDED) {
        process.kill(pidone, num);
        await poll(
          () =>
            readSignalLog(join(dir, 'child.log')).includes(num) && readSignalLog(join(dir, 'grandchild.log')).includes(num)
              ? true
              : undefined,
          10_000,
          `${name} at the child and the grandchild`,
        );
      }
      const expected = FORWARDED.map(([, n]) => n);
      expect(readSignalLog(join(dir, 'child.log'))).toEqual(expected);
      expect(readSignalLog(join(dir, 'grandchild.log'))).toEqual(expected);
      run.proc.stdin!.end('exit 0\n');
      expect((await run.exited).code).toBe(0);
    });

    it('with --single-child forwards to the child only', async () => {
      const dir = tempDir();
      const run = start(mode, ['--single-child', '--', fixture('sigrec'), dir, '--grandchild']);
      const [, , grandchild] = await run.waitForStdout(/ready (\d+) (\d+)/);
      const pidone = await run.hostPid();
      for (const [name, num] of FORWARDED) {
        process.kill(pidone, num);
        await poll(() => (readSignalLog(join(dir, 'child.log')).includes(num) ? true : undefined), 10_000, name);
      }
      expect(readSignalLog(join(dir, 'child.log'))).toEqual(FORWARDED.map(([, n]) => n));
      // A marker sent straight to the grandchild: once it has arrived, anything pidone
      // had sent to the group would have arrived before it.
      const grandchildHostPid = mode === 'subreaper' ? Number(grandchild) : hostPidOfGrandchild(pidone);
      process.kill(grandchildHostPid, 'SIGPWR');
      await poll(() => (readSignalLog(join(dir, 'grandchild.log')).length > 0 ? true : undefined), 10_000, 'the marker');
      expect(readSignalLog(join(dir, 'grandchild.log'))).toEqual([30]);
      run.proc.stdin!.end('exit 4\n');
      expect((await run.exited).code).toBe(4);
    });

    it('turns the child dying of SIGTERM sent to pidone from inside into exit 143', async () => {
      // As PID 1 the child signals pid 1; as a subreaper, its parent.
      const target = mode === 'pid1' ? '1' : '$PPID';
      const run = start(mode, ['--', 'sh', '-c', `kill -TERM ${target}; sleep 30`]);
      expect((await run.exited).code).toBe(143);
    });

    it('never opens the inspector on SIGUSR1', async () => {
      expect(listeningOn(9229)).toBe(false);
      const dir = tempDir();
      const run = start(mode, ['--', fixture('sigrec'), dir]);
      await run.waitForStdout(/ready/);
      const pidone = await run.hostPid();
      process.kill(pidone, 'SIGUSR1');
      await poll(() => (readSignalLog(join(dir, 'child.log')).includes(10) ? true : undefined), 10_000, 'SIGUSR1 at the child');
      // Node starts the inspector from a watchdog thread soon after the signal; give it
      // ample time to do so if it were going to.
      await new Promise((r) => setTimeout(r, 500));
      expect(listeningOn(9229)).toBe(false);
      run.proc.stdin!.end('exit 0\n');
      expect((await run.exited).code).toBe(0);
    });

    it('gives the child default signals, an empty mask, exactly the fds pidone got, blocking stdio', async () => {
      const dir = tempDir();
      const extra = openSync(join(dir, 'fd7'), 'w');
      try {
        const stdio: Array<'pipe' | 'ignore' | number> = ['pipe', 'pipe', 'pipe', 'ignore', 'ignore', 'ignore', 'ignore', extra];
        const run = start(mode, ['--', fixture('probe')], { stdio, keepFds: { keep: '0,1,2,7', nonblock: '0,1,2' } });
        const exit = await run.exited;
        expect(exit.code).toBe(0);
        const probe = JSON.parse(run.stdout.trim()) as Record<string, unknown>;
        expect(probe['SigBlk']).toBe('0000000000000000');
        expect(probe['SigIgn']).toBe('0000000000000000');
        expect(probe['fds']).toEqual([0, 1, 2, 7]);
        expect(probe['nonblocking']).toEqual([]);
        // The child leads its own process group.
        expect(probe['pgid']).toBe(probe['pid']);
      } finally {
        closeSync(extra);
      }
    });

    it('survives EPIPE on its stderr, and so does the child', async () => {
      const run = start(mode, ['-vvv', '--rewrite', 'USR2:0', '--', 'sh', '-c', 'sleep 1; exit 5']);
      run.proc.stderr!.destroy();
      const pidone = await run.hostPid();
      // Signal only once pidone owns its signals: it spawns after installing handlers.
      await poll(() => (childrenOf(pidone).length > 0 ? true : undefined), 10_000, 'the child');
      // Each received signal is logged: writes to the closed pipe.
      for (let i = 0; i < 20; i++) {
        process.kill(pidone, 'SIGUSR2');
        await new Promise((r) => setTimeout(r, 10));
      }
      expect((await run.exited).code).toBe(5);
    });

    it('forwards a signal sent right after spawn to the whole new group', async () => {
      for (let round = 0; round < 10; round++) {
        const run = start(mode, ['--', 'sh', '-c', 'sleep 30 & wait']);
        const pidone = await run.hostPid();
        // Busy-poll for the child to exist, then signal at once: microseconds after fork.
        const child = pollSync(() => childrenOf(pidone)[0], 10_000);
        expect(child).toBeDefined();
        process.kill(pidone, 'SIGTERM');
        const exit = await run.exited;
        expect(exit.code).toBe(143);
      }
    });
  });
}

describeWithNamespaces('pidone refuses bad command lines before spawning anything', () => {
  it.each([
    [['--bogus'], '--bogus'],
    [['--rewrite', 'FOO:TERM'], 'FOO'],
    [['--grace', '5x'], '--grace'],
    [['--log-format', 'xml'], '--log-format'],
    [['--remap-exit', '300'], '--remap-exit'],
    [['-Z'], '-Z'],
  ])('%j: exit 2, names %s, marker not created', async (flags, named) => {
    const dir = tempDir();
    const marker = join(dir, 'marker');
    const run = start('pid1', [...flags, '--', 'touch', marker]);
    const exit = await run.exited;
    expect(exit.code).toBe(2);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toContain(named);
    expect(existsSync(marker)).toBe(false);
  });
});

/** Is anything listening on TCP `port` (IPv4 or IPv6) in this network namespace? */
function listeningOn(port: number): boolean {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      // local_address is column 1, state column 3 (0A = LISTEN).
      if (cols[1]?.endsWith(hex) && cols[3] === '0A') return true;
    }
  }
  return false;
}

/** As PID 1, the test sees pidone's child's child by walking host /proc. */
function hostPidOfGrandchild(pidone: number): number {
  const child = childrenOf(pidone)[0]!;
  return childrenOf(child)[0]!;
}
