/**
 * What remains when the main child exits (--remaining kill|wait|leave, --grace), the
 * own PID namespace (--pid-ns), --pdeathsig, and the pidfd path, on the real kernel.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { fixture, PIDONE } from '../helpers/paths.js';
import { describeWithNamespaces, inCiAsRoot } from '../helpers/privilege.js';
import { MODES, childrenOf, poll, readSignalLog, startPidone, type Mode, type PidoneRun } from '../helpers/run-pidone.js';

const running: PidoneRun[] = [];
const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const run of running.splice(0)) run.kill('SIGKILL');
  for (const c of cleanups.splice(0)) c();
});

function start(mode: Mode, args: string[]): PidoneRun {
  const run = startPidone(mode, args);
  running.push(run);
  return run;
}

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pidone-shutdown-'));
  chmodSync(dir, 0o777);
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Host pids whose command line contains `marker` (the test's own processes excluded). */
function pidsWith(marker: string): number[] {
  const r = spawnSync('pgrep', ['-f', marker], { encoding: 'utf8' });
  return r.stdout
    .split('\n')
    .filter((l) => l !== '')
    .map(Number)
    .filter((pid) => pid !== process.pid);
}

/** A unique duration for `sleep`, so the test can find exactly its own sleeps. */
function uniqueSleep(): string {
  return `1000.${Math.floor(Math.random() * 1e9)}`;
}

function killAll(marker: string): void {
  for (const pid of pidsWith(marker)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
}

for (const mode of MODES) {
  describeWithNamespaces(`what remains, as ${mode === 'pid1' ? 'PID 1' : 'a subreaper'}`, () => {
    it('--remaining kill: a TERM-trapping leftover cleans up, a TERM-ignoring one is killed after the grace period', async () => {
      const dir = tempDir();
      const marker = uniqueSleep();
      cleanups.push(() => killAll(marker));
      // Both leftovers escape the child's process group with setsid, so only the
      // shutdown of what remains can reach them.
      const cleaner = `trap 'echo cleaned > ${dir}/cleaned; exit 0' TERM; echo up > ${dir}/cleaner-up; while :; do sleep 0.05; done`;
      const stubborn = `trap '' TERM; echo up > ${dir}/stubborn-up; exec sleep ${marker}`;
      const script =
        `setsid sh -c "${cleaner}" & setsid sh -c "${stubborn}" & ` +
        `while [ ! -e ${dir}/cleaner-up ] || [ ! -e ${dir}/stubborn-up ]; do sleep 0.01; done; exit 7`;
      const started = Date.now();
      const run = start(mode, ['-v', '--grace', '1s', '--', 'sh', '-c', script]);
      const exit = await run.exited;
      const elapsed = Date.now() - started;
      expect(exit.code).toBe(7);
      expect(readFileSync(join(dir, 'cleaned'), 'utf8')).toBe('cleaned\n');
      expect(pidsWith(marker)).toEqual([]);
      // The stubborn one holds pidone until the SIGKILL: at least the grace period.
      expect(elapsed).toBeGreaterThanOrEqual(1000);
      const msgs = run.logs().map((l) => l['msg']);
      expect(msgs).toContain('child exited; sending SIGTERM to what remains');
      expect(msgs).toContain('grace period over: sending SIGKILL to what remains');
      expect(msgs).toContain('nothing remains; exiting');
    });

    it('--remaining kill: a leftover forking every 10 ms during shutdown is still fully killed', async () => {
      const dir = tempDir();
      const marker = uniqueSleep();
      cleanups.push(() => killAll(marker));
      const forker = `trap '' TERM; echo up > ${dir}/up; while :; do sleep ${marker} & sleep 0.01; done`;
      const script = `setsid sh -c "${forker}" & while [ ! -e ${dir}/up ]; do sleep 0.01; done; sleep 0.2; exit 3`;
      const run = start(mode, ['--grace', '300ms', '--', 'sh', '-c', script]);
      expect((await run.exited).code).toBe(3);
      expect(pidsWith(marker)).toEqual([]);
    });

    it('--remaining wait: waits for the worker a daemon left behind, then exits with the daemon code', async () => {
      const dir = tempDir();
      // The daemon double-forks a worker that finishes after 1 s, and exits 0 at once.
      const script = `(sh -c "sleep 1; echo done > ${dir}/worker" &) ; exit 0`;
      const run = start(mode, ['--remaining', 'wait', '--', 'sh', '-c', script]);
      const exit = await run.exited;
      expect(exit.code).toBe(0);
      expect(existsSync(join(dir, 'worker'))).toBe(true);
    });

    it('--grace 0 kills what remains at once', async () => {
      const marker = uniqueSleep();
      cleanups.push(() => killAll(marker));
      const run = start(mode, ['-v', '--grace', '0', '--', 'sh', '-c', `setsid sleep ${marker} & sleep 0.2; exit 9`]);
      expect((await run.exited).code).toBe(9);
      expect(pidsWith(marker)).toEqual([]);
      expect(run.logs().map((l) => l['msg'])).toContain('grace period over: sending SIGKILL to what remains');
    });

    it('a second SIGTERM during the grace period skips straight to SIGKILL', async () => {
      const dir = tempDir();
      const marker = uniqueSleep();
      cleanups.push(() => killAll(marker));
      const stubborn = `trap '' TERM; echo up > ${dir}/up; exec sleep ${marker}`;
      const run = start(mode, ['-v', '--grace', '1m', '--', 'sh', '-c', `setsid sh -c "${stubborn}" & while [ ! -e ${dir}/up ]; do sleep 0.01; done; exit 0`]);
      const pidone = await run.hostPid();
      await poll(() => (run.logs().some((l) => l['msg'] === 'child exited; sending SIGTERM to what remains') ? true : undefined), 20_000, 'shutdown to start');
      process.kill(pidone, 'SIGTERM');
      expect((await run.exited).code).toBe(0);
      expect(pidsWith(marker)).toEqual([]);
      expect(run.logs().map((l) => l['msg'])).toContain('second shutdown signal during the grace period: killing what remains now');
    });
  });
}

describeWithNamespaces('what remains, as a subreaper: only pidone\'s own subtree', () => {
  it('kills a setsid leftover and spares a sentinel outside its subtree', async () => {
    const leftover = uniqueSleep();
    const sentinelMark = uniqueSleep();
    cleanups.push(() => killAll(leftover));
    const sentinel = spawn('sleep', [sentinelMark], { stdio: 'ignore' });
    cleanups.push(() => sentinel.kill('SIGKILL'));
    const run = start('subreaper', ['--grace', '1s', '--', 'sh', '-c', `setsid sleep ${leftover} & sleep 0.3; exit 0`]);
    expect((await run.exited).code).toBe(0);
    expect(pidsWith(leftover)).toEqual([]);
    expect(pidsWith(sentinelMark)).toEqual([sentinel.pid]);
  });

  it('--remaining leave exits at once and leaves the rest running (tini)', async () => {
    const leftover = uniqueSleep();
    cleanups.push(() => killAll(leftover));
    // The leftover must not hold pidone's stdout open, or the test would wait for it.
    const run = start('subreaper', ['--remaining', 'leave', '--', 'sh', '-c', `setsid sleep ${leftover} >/dev/null 2>&1 & sleep 0.2; exit 6`]);
    expect((await run.exited).code).toBe(6);
    expect(pidsWith(leftover)).toHaveLength(1);
  });

  it('--pdeathsig: when pidone\'s parent is killed, the child gets the signal', async () => {
    const dir = tempDir();
    // sigrec exits at EOF on stdin, so its stdin is a FIFO the test holds open itself:
    // Node closes a 'pipe' stdin as soon as the process it gave it to (sh) dies.
    const fifo = join(dir, 'stdin');
    spawnSync('mkfifo', [fifo]);
    const stdin = openSync(fifo, 'r+');
    cleanups.push(() => closeSync(stdin));
    // sh is pidone's parent (a foreground command, so sh forks it and waits); the test
    // kills sh with SIGKILL.
    const parent = spawn('sh', ['-c', `${PIDONE} --pdeathsig USR2 -- ${fixture('sigrec')} ${dir}; exit 0`], {
      stdio: [stdin, 'pipe', 'inherit'],
    });
    let out = '';
    parent.stdout!.setEncoding('utf8');
    parent.stdout!.on('data', (d: string) => (out += d));
    const pidonePid = await poll(() => childrenOf(parent.pid!)[0], 20_000, 'pidone under sh');
    cleanups.push(() => {
      try {
        process.kill(pidonePid, 'SIGKILL');
      } catch {
        // gone
      }
    });
    // sigrec prints "ready" once its handlers are in: only then may the signal come.
    const sigrec = await poll(() => /ready (\d+)/.exec(out)?.[1], 20_000, 'sigrec to be ready');
    // sigrec holds its FIFO read-write, so it never sees EOF: end it too.
    cleanups.push(() => {
      try {
        process.kill(Number(sigrec), 'SIGKILL');
      } catch {
        // gone
      }
    });
    parent.kill('SIGKILL');
    await poll(() => (readSignalLog(join(dir, 'child.log')).includes(12) ? true : undefined), 20_000, 'SIGUSR2 at the child');
    expect(readSignalLog(join(dir, 'child.log'))).toEqual([12]);
  });

  it('signals the main child through its pidfd (strace shows pidfd_send_signal, not kill)', async () => {
    const dir = tempDir();
    const trace = join(dir, 'trace');
    const proc = spawn(
      'strace',
      ['-f', '-qq', '-o', trace, '-e', 'trace=pidfd_open,pidfd_send_signal,kill', PIDONE, '--single-child', '--', fixture('sigrec'), dir],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    );
    cleanups.push(() => proc.kill('SIGKILL'));
    await new Promise<void>((resolve) => proc.stdout!.once('data', () => resolve()));
    // strace's pid is not pidone's; find pidone as strace's child.
    const pidone = Number(readFileSync(`/proc/${proc.pid}/task/${proc.pid}/children`, 'utf8').trim().split(' ')[0]);
    process.kill(pidone, 'SIGHUP');
    await poll(() => (readSignalLog(join(dir, 'child.log')).includes(1) ? true : undefined), 20_000, 'SIGHUP at the child');
    proc.stdin!.end('exit 0\n');
    await new Promise((r) => proc.on('close', r));
    const text = readFileSync(trace, 'utf8');
    expect(text).toMatch(/pidfd_open\(\d+, 0\)\s+= \d+/);
    expect(text).toMatch(/pidfd_send_signal\(\d+, SIGHUP, NULL, 0\) = 0/);
    expect(text).not.toMatch(/kill\(\d+, SIGHUP\)/);
  });
});

describeWithNamespaces('--pid-ns: pidone in its own PID namespace', () => {
  const users = inCiAsRoot || process.getuid?.() === 0 ? ['root', 'nobody'] : ['self'];
  for (const user of users) {
    it(`as ${user}: pidone is PID 1 for the child, and a leftover dies with it`, async () => {
      const dir = tempDir();
      const marker = uniqueSleep();
      cleanups.push(() => killAll(marker));
      const inner = `echo "pid=$$ ppid=$PPID" > ${dir}/ids; sleep ${marker} & exit 5`;
      const args = [PIDONE, '--pid-ns', '--remaining', 'leave', '--', 'sh', '-c', inner];
      const r =
        user === 'nobody'
          ? spawnSync('su', ['nobody', '-s', '/bin/sh', '-c', args.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ')], { encoding: 'utf8' })
          : spawnSync(args[0]!, args.slice(1), { encoding: 'utf8' });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(5);
      // The command was forked first in the new namespace: it is pid 2, pidone is 1.
      expect(readFileSync(join(dir, 'ids'), 'utf8')).toBe('pid=2 ppid=1\n');
      // --remaining leave: pidone did not kill the sleep; the kernel did, when the
      // namespace's init exited.
      expect(pidsWith(marker)).toEqual([]);
    });
  }
});
