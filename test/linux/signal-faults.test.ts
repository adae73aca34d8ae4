/**
 * Signals at the edges, on the real kernel:
 * - a real fault inside pidone (PIDONE_FAULT=segv: a write through a null pointer in
 *   the addon) still ends pidone by SIGSEGV, and its own abort() by SIGABRT, now that
 *   pidone catches both to forward sent ones (test/linux/every-signal.test.ts);
 * - a child killed by 32 or 33, the real-time signals glibc reserves and gives no
 *   name, makes pidone exit 160 or 161, as bash, tini and dumb-init do, also when other
 *   zombies are reaped in the same pass; and 32 or 33 sent to pidone reach the child;
 * - in the background of a terminal with `stty tostop`, pidone's own writes neither
 *   spin nor hang it (the write would raise SIGTTOU, which pidone catches).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { candidatePaths } from '../../src/kernel/linux/loader.js';
import { fixture, PIDONE, ROOT } from '../helpers/paths.js';
import { describeWithNamespaces } from '../helpers/privilege.js';
import { eachTestCleanup, MODES, poll, type Exit, type PidoneRun } from '../helpers/run-pidone.js';

const { start, tempDir, cleanups } = eachTestCleanup('pidone-signal-faults-');

/** Kill the pid written in `file` (a process a failed test would leave behind). */
function killPidIn(file: string): void {
  try {
    process.kill(Number(readFileSync(file, 'utf8').trim()), 'SIGKILL');
  } catch {
    // Gone, or never started.
  }
}

/** pidone's exit, or a failure naming what it was doing when it did not exit in time. */
async function exitWithin(run: PidoneRun, ms: number): Promise<Exit> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`pidone did not exit within ${ms} ms; its log: ${run.stderr}`)), ms);
  });
  try {
    return await Promise.race([run.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

for (const mode of MODES) {
  const where = mode === 'pid1' ? 'PID 1' : 'a subreaper';

  describeWithNamespaces(`a crash of pidone stays a crash, as ${where}`, () => {
    it('a real SIGSEGV in pidone (PIDONE_FAULT=segv) ends it by SIGSEGV, at once', async () => {
      const dir = tempDir();
      // As a subreaper the crash orphans the child; the test ends it.
      cleanups.push(() => killPidIn(join(dir, 'child')));
      // Its stdio elsewhere: it would hold pidone's pipes open, and 'close' with them.
      const run = start(mode, ['--', 'sh', '-c', `echo $$ > ${dir}/child; exec sleep 30 </dev/null >/dev/null 2>&1`], {
        PIDONE_FAULT: 'segv',
      });
      // unshare --fork dies of the signal that killed its child (pidone), so both
      // positions show it the same way.
      expect(await exitWithin(run, 20_000)).toEqual({ code: null, signal: 'SIGSEGV' });
    });

    // As PID 1 the kernel drops both SIGABRTs glibc's abort() sends itself (a namespace's
    // init ignores signals it has no handler for, even its own), and abort() falls back
    // to a hlt instruction, which faults: SIGSEGV. That is the kernel's and glibc's
    // doing, and the same without pidone's handler.
    const abortSignal = mode === 'pid1' ? 'SIGSEGV' : 'SIGABRT';
    it(`pidone's own abort() (PIDONE_FAULT=abort) ends it by ${abortSignal}, and the child is not sent SIGABRT`, async () => {
      const dir = tempDir();
      cleanups.push(() => killPidIn(join(dir, 'child')));
      const child = `exec </dev/null >/dev/null 2>&1; echo $$ > ${dir}/child; trap 'echo ABRT > ${dir}/abrt' ABRT; sleep 30 & wait`;
      const run = start(mode, ['--', 'sh', '-c', child], { PIDONE_FAULT: 'abort' });
      expect(await exitWithin(run, 20_000)).toEqual({ code: null, signal: abortSignal });
      expect(() => readFileSync(join(dir, 'abrt'))).toThrow();
    });
  });

  describeWithNamespaces(`a child killed by glibc's reserved signals 32 and 33, as ${where}`, () => {
    for (const signo of [32, 33]) {
      it(`killed by ${signo}: pidone exits ${128 + signo} and logs it by number`, async () => {
        const run = start(mode, ['-v', '--', 'sh', '-c', `kill -${signo} $$`]);
        expect((await exitWithin(run, 20_000)).code).toBe(128 + signo);
        const exited = run.logs().find((l) => l['msg'] === 'child exited');
        expect(exited?.['status']).toBe(`killed by SIG${signo}`);
        expect(run.logs().filter((l) => l['level'] === 'error')).toEqual([]);
      });
    }

    for (const signo of [32, 33]) {
      it(`${signo} sent to pidone (caught despite glibc) reaches the child, which dies of it: ${128 + signo}`, async () => {
        const dir = tempDir();
        const run = start(mode, ['--', 'sh', '-c', `touch ${dir}/up; exec sleep 30`]);
        const pidone = await run.hostPid();
        await poll(() => (existsSync(join(dir, 'up')) ? true : undefined), 20_000, 'the child');
        process.kill(pidone, signo);
        expect(await exitWithin(run, 20_000)).toEqual({ code: 128 + signo, signal: null });
      });
    }

    it('killed by 32 while three orphaned zombies are reaped in the same pass: 160, and all three reaped', async () => {
      const run = start(mode, ['--warn-on-reap', '--', fixture('zombies-then-kill'), '3', '32']);
      expect((await exitWithin(run, 20_000)).code).toBe(160);
      const orphans = run.logs().filter((l) => l['msg'] === 'reaped orphan');
      expect(orphans.map((l) => l['status'])).toEqual(['exit 3', 'exit 3', 'exit 3']);
      expect(run.logs().filter((l) => l['level'] === 'error')).toEqual([]);
    });
  });
}

describe("pidone catching glibc's 32 and 33", () => {
  it("leaves glibc's own use of them working: setgid() and setuid() in a threaded Node still return", () => {
    // glibc changes the credentials of every thread by sending each SIGSETXID (33) and
    // waiting for its handler to run there; pidone's handler passes those on to glibc's.
    const addon = candidatePaths(ROOT).find((p) => existsSync(p))!;
    const script = [
      `const addon = require(${JSON.stringify(addon)});`,
      'const failed = addon.installSignalHandlers([12, 32, 33]);',
      "if (failed.length > 0) throw new Error('not caught: ' + failed);",
      'process.setgid(process.getgid());',
      'process.setuid(process.getuid());',
      "require('fs').writeSync(1, 'returned');",
    ].join('\n');
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 20_000 });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('returned');
    expect(r.status).toBe(0);
  });
});

interface PtyResult {
  status: number;
  output: string;
  failed: number | null;
}

/** A shell script on a fresh pseudo-terminal (test/helpers/pty-run.py), as a terminal user runs it. */
function onPty(script: string, expectRe: string): PtyResult {
  const steps = [{ expect: expectRe, timeout: 20 }];
  const r = spawnSync('python3', [join(ROOT, 'test', 'helpers', 'pty-run.py'), JSON.stringify(steps), '--', 'sh', '-c', script], {
    encoding: 'utf8',
    timeout: 90_000,
  });
  if (r.status !== 0) throw new Error(`pty-run failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as PtyResult;
}

/** utime + stime of $1 in clock ticks (proc(5) fields 14 and 15; comm may hold spaces). */
const CPU_TICKS = `cpu() { awk '{ sub(/^.*\\) /, ""); print $12 + $13 }' /proc/$1/stat; }`;

describe('in the background of a terminal with stty tostop', () => {
  // `set -m` gives each background job its own process group, outside the foreground.
  // With tostop, a write to the terminal from there raises SIGTTOU, which pidone catches.

  it('`pidone -- missing-cmd &` prints its error and exits 127', () => {
    const dir = tempDir();
    cleanups.push(() => killPidIn(join(dir, 'pid')));
    const r = onPty(
      `stty tostop; set -m; ${PIDONE} -- pidone-test-no-such-command & echo $! > ${dir}/pid; wait $!; echo "rc=$?"`,
      'rc=\\d+',
    );
    expect(r.failed).toBeNull();
    expect(r.output).toContain("pidone: cannot run 'pidone-test-no-such-command': No such file or directory");
    expect(r.output).toMatch(/rc=127/);
  });

  it('`pidone --version &` prints its version and exits 0', () => {
    const dir = tempDir();
    cleanups.push(() => killPidIn(join(dir, 'pid')));
    const r = onPty(`stty tostop; set -m; ${PIDONE} --version & echo $! > ${dir}/pid; wait $!; echo "rc=$?"`, 'rc=\\d+');
    expect(r.failed).toBeNull();
    expect(r.output).toMatch(/pidone \d+\.\d+\.\d+/);
    expect(r.output).toMatch(/rc=0/);
  });

  it('a running pidone that logs does not spin (its CPU time over a second stays small) and still forwards SIGTERM', () => {
    const dir = tempDir();
    cleanups.push(() => killPidIn(join(dir, 'pid')));
    const script = [
      CPU_TICKS,
      'stty tostop; set -m',
      // -v: pidone writes "started child" to the terminal as soon as the child runs.
      `${PIDONE} -v -- sh -c 'touch ${dir}/up; exec sleep 30' & p=$!; echo $p > ${dir}/pid`,
      `while [ ! -e ${dir}/up ]; do sleep 0.05; done; sleep 0.3`,
      't0=$(cpu $p); sleep 1; t1=$(cpu $p); echo "ticks=$((t1 - t0)) hz=$(getconf CLK_TCK)"',
      'kill -TERM $p; wait $p; echo "rc=$?"',
    ].join('\n');
    const r = onPty(script, 'rc=\\d+');
    const m = /ticks=(\d+) hz=(\d+)/.exec(r.output);
    expect(m, r.output).not.toBeNull();
    // A spinning pidone burns about a second of CPU here; an idle one next to none.
    const seconds = Number(m![1]) / Number(m![2]);
    expect(seconds).toBeLessThan(0.25);
    expect(r.output).toContain('started child');
    expect(r.failed).toBeNull();
    expect(r.output).toMatch(/rc=143/);
  });
});
