/**
 * Storms and a soak on the real kernel (npm run test:stress): PID 1 must hold under
 * load. Bounds are generous on purpose: these prove correctness under load, the
 * speed is measured in bench/.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterEach, expect, it } from 'vitest';
import { fixture } from '../helpers/paths.js';
import { describeWithNamespaces } from '../helpers/privilege.js';
import { MODES, poll, startPidone, type Mode, type PidoneRun } from '../helpers/run-pidone.js';

const running: PidoneRun[] = [];
afterEach(() => {
  for (const run of running.splice(0)) run.kill('SIGKILL');
});

function start(mode: Mode, args: string[]): PidoneRun {
  const run = startPidone(mode, args);
  running.push(run);
  return run;
}

/** VmRSS of a process, in kB. */
function rssKb(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m![1]);
}

/**
 * VmRSS once it has stopped moving: pidone loads the rest of itself after it has
 * spawned the child (the start-up fast path), so "its start" is when that settles.
 */
async function settledRssKb(pid: number): Promise<number> {
  let previous = rssKb(pid);
  for (let i = 0; i < 40; i++) {
    await new Promise((r) => setTimeout(r, 500));
    const now = rssKb(pid);
    if (Math.abs(now - previous) < 64) return now;
    previous = now;
  }
  return previous;
}

const RT = 36; // SIGRTMIN+2

/** Ask the storm fixture for its report, parsed. */
async function report(run: PidoneRun): Promise<{ signals: number; zombies: number; maker: number }> {
  const before = run.stdout.length;
  run.proc.stdin!.write('report\n');
  await poll(() => (/signals \d+ zombies -?\d+ maker \d\n/.test(run.stdout.slice(before)) ? true : undefined), 30_000, 'a report');
  const m = /signals (\d+) zombies (-?\d+) maker (\d)/.exec(run.stdout.slice(before))!;
  return { signals: Number(m[1]), zombies: Number(m[2]), maker: Number(m[3]) };
}

for (const mode of MODES) {
  describeWithNamespaces(`storms, as ${mode === 'pid1' ? 'PID 1' : 'a subreaper'}`, () => {
    it('orphan storm: 10,000 orphans while 1,000 real-time signals arrive: every signal once, 0 zombies, RSS back', async () => {
      const run = start(mode, ['--', fixture('storm'), '10000', String(RT)]);
      await run.waitForStdout(/ready \d+/);
      const pidone = await run.hostPid();
      const rssStart = await settledRssKb(pidone);
      for (let i = 0; i < 1000; i++) {
        process.kill(pidone, RT);
        if (i % 20 === 19) await new Promise((r) => setTimeout(r, 1));
      }
      let last = await report(run);
      const deadline = Date.now() + 120_000;
      while ((last.maker !== 1 || last.zombies !== 0 || last.signals < 1000) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 200));
        last = await report(run);
      }
      expect(last).toEqual({ signals: 1000, zombies: 0, maker: 1 });
      const growth = (await settledRssKb(pidone)) - rssStart;
      console.log(`orphan storm (${mode}): pidone VmRSS ${rssStart} kB at start, growth ${growth} kB`);
      expect(growth, `RSS grew by ${growth} kB`).toBeLessThan(1024);
      run.proc.stdin!.end('exit 0\n');
      expect((await run.exited).code).toBe(0);
    });

    it('signal storm: 100,000 signals in a burst while orphans are made; SIGCHLD still reaped, TERM still ends it', async () => {
      const run = start(mode, ['--grace', '2s', '--', fixture('storm'), '3000', String(RT)]);
      await run.waitForStdout(/ready \d+/);
      const pidone = await run.hostPid();
      // Two bursts at once, so the self-pipe fills while pidone is busy.
      const bursts = [0, 1].map(() =>
        spawnSync(fixture('killer'), [String(pidone), '10', '50000'], { encoding: 'utf8', timeout: 120_000 }),
      );
      for (const b of bursts) expect(b.stdout).toContain('sent 50000 failed 0');
      let last = await report(run);
      const deadline = Date.now() + 120_000;
      while ((last.maker !== 1 || last.zombies !== 0) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 200));
        last = await report(run);
      }
      expect(last.zombies).toBe(0);
      expect(last.maker).toBe(1);
      const sent = Date.now();
      process.kill(pidone, 'SIGTERM');
      const exit = await run.exited;
      expect(exit.code).toBe(143);
      expect(Date.now() - sent).toBeLessThan(2000 + 10_000);
    });
  });
}

describeWithNamespaces('soak', () => {
  it('200,000 orphans reaped as PID 1, RSS flat', async () => {
    const run = start('pid1', ['--', 'sh', '-c', `for i in 1 2 3 4; do ${fixture('orphans')} 50000 0 || exit 1; done; echo soaked`]);
    const pidone = await run.hostPid();
    await poll(() => (run.stdout.includes('orphans 50000') ? true : undefined), 300_000, 'the first 50,000');
    const rssAfterFirst = rssKb(pidone);
    await run.waitForStdout(/soaked/, 600_000);
    const rssAfterAll = rssKb(pidone);
    expect(run.stdout.match(/orphans 50000 zombies 0/g)).toHaveLength(4);
    expect((await run.exited).code).toBe(0);
    // Flat: the last 150,000 reaps added less than 1 MB.
    expect(rssAfterAll - rssAfterFirst, `RSS grew by ${rssAfterAll - rssAfterFirst} kB`).toBeLessThan(1024);
  });
});
