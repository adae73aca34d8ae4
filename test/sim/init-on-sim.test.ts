/**
 * pidone's real init policy (src/init.ts) on the simulated kernel: reaping orphans,
 * forwarding to the group or the child alone, exit codes, --rewrite, PID 1 versus
 * subreaper. Automatic scheduling: virtual time moves by itself, no test sleeps.
 */
import { describe, expect, it } from 'vitest';
import { execFailureReport } from '../../src/compat/index.js';
import { runInitOnSim } from './init-harness.js';
import type { SimKernel } from '../../src/kernel/sim/index.js';

const signalsTo = (sim: SimKernel, name: string, signal: string): number[] =>
  sim.trace.find('signal', { signal }).filter((e) => sim.trace.events.some((f) => f.event === 'fork' && f.pid === e.pid && f.details['name'] === name)).map((e) => e.pid);

describe('Init on SimKernel', () => {
  it('reaps 200 double-forked orphans as PID 1 and exits with the child\'s code', async () => {
    const { sim, code } = await runInitOnSim(['--', 'app'], {
      app: [{ repeat: 200, steps: [{ doubleFork: 'worker' }] }, { sleep: 1000 }, { exit: 7 }],
      worker: [{ sleep: 500 }, { exit: 0 }],
    });
    expect(code).toBe(7);
    const pidone = sim.pidonePid;
    const orphansReaped = sim.trace.find('reaped', { by: pidone }).length;
    expect(orphansReaped).toBe(201); // 200 workers + the app
    expect(sim.trace.find('reparented', { to: pidone })).toHaveLength(200);
    expect(sim.ps().filter((p) => p.name === 'worker' || p.name === 'app')).toEqual([]);
    expect(sim.now()).toBe(1000);
  });

  it('forwards SIGTERM to the child\'s whole process group by default: the grandchild gets it once', async () => {
    const { sim, code } = await runInitOnSim(
      ['--', 'app'],
      {
        app: [{ on: 'SIGTERM', run: [{ wait: -1 }, { exit: 0 }] }, { fork: 'helper' }, { pause: true }],
        helper: [{ on: 'SIGTERM', do: 'exit', code: 0 }, { pause: true }],
      },
      { before: (sim) => sim.at(100, () => sim.signal('pidone', 'SIGTERM')) },
    );
    expect(code).toBe(0);
    expect(signalsTo(sim, 'helper', 'SIGTERM')).toHaveLength(1);
    expect(signalsTo(sim, 'app', 'SIGTERM')).toHaveLength(1);
  });

  it('--single-child forwards to the child alone (through its pidfd); the rest is dealt with after it exits', async () => {
    const { sim, code } = await runInitOnSim(
      ['--single-child', '--grace', '2s', '--', 'app'],
      {
        app: [{ on: 'SIGTERM', do: 'exit', code: 0 }, { fork: 'helper' }, { pause: true }],
        helper: [{ on: 'SIGTERM', run: [{ note: 'helper got SIGTERM' }, { exit: 0 }] }, { pause: true }],
      },
      { before: (sim) => sim.at(100, () => sim.signal('pidone', 'SIGTERM')) },
    );
    expect(code).toBe(0);
    // The helper was not signalled by the forward; it got SIGTERM later, once, from the shutdown of what remains.
    const helperTerm = sim.trace.find('note', { text: 'helper got SIGTERM' });
    expect(helperTerm).toHaveLength(1);
    const appExit = sim.trace.find('exit', { name: 'app' })[0]!;
    expect(helperTerm[0]!.seq).toBeGreaterThan(appExit.seq);
  });

  it('exit code: the child\'s code, or 128+n when signal n killed it', async () => {
    expect((await runInitOnSim(['--', 'app'], { app: [{ exit: 42 }] })).code).toBe(42);
    const killed = await runInitOnSim(['--', 'app'], { app: [{ pause: true }] }, {
      before: (sim) => sim.at(50, () => sim.signal('app', 'SIGKILL')),
    });
    expect(killed.code).toBe(137);
    const termed = await runInitOnSim(['--', 'app'], { app: [{ pause: true }] }, {
      before: (sim) => sim.at(50, () => sim.signal('pidone', 'SIGTERM')),
    });
    expect(termed.code).toBe(143);
  });

  it('an unknown command exits 127 with a shell-like message; a non-executable one 126', async () => {
    const missing = await runInitOnSim(['--', 'nope'], {});
    expect(missing.code).toBe(127);
    expect(missing.errors).toEqual(["pidone: cannot run 'nope': No such file or directory"]);
    const notExecutable = await runInitOnSim(['--', 'noexec'], { noexec: { steps: [], execError: 'EACCES' } });
    expect(notExecutable.code).toBe(126);
    expect(notExecutable.errors).toEqual(["pidone: cannot run 'noexec': Permission denied"]);
  });

  it('a path through a file (ENOTDIR) counts as not found: 127', async () => {
    const run = await runInitOnSim(['--', 'notdir'], { notdir: { steps: [], execError: 'ENOTDIR' } });
    expect(run.code).toBe(127);
    expect(run.errors).toEqual(["pidone: cannot run 'notdir': Not a directory"]);
  });

  it('a compat mode reports a command it cannot run in its own words, through InitOptions.execFailure', async () => {
    const run = await runInitOnSim(['--', 'notdir'], { notdir: { steps: [], execError: 'ENOTDIR' } }, {
      execFailure: (file, code) => execFailureReport('tini', file, code, 7),
    });
    // tini's rule, not pidone's: 1 for what is neither ENOENT nor EACCES.
    expect(run.code).toBe(1);
    expect(run.errors).toEqual(['[FATAL tini (7)] exec notdir failed: Not a directory']);
  });

  it("a simulated program's child that cannot exec exits as a shell's would: 127 not found (ENOENT, ENOTDIR), 126 otherwise", async () => {
    const { sim, code } = await runInitOnSim(['--', 'app'], {
      app: [{ fork: 'missing' }, { fork: 'notdir' }, { fork: 'noexec' }, { sleep: 10 }, { exit: 0 }],
      notdir: { steps: [], execError: 'ENOTDIR' },
      noexec: { steps: [], execError: 'EACCES' },
    });
    expect(code).toBe(0);
    const statusOf = (name: string) => sim.trace.find('exit', { name }).map((e) => e.details['status']);
    expect(statusOf('missing')).toEqual(['exit 127']);
    expect(statusOf('notdir')).toEqual(['exit 127']);
    expect(statusOf('noexec')).toEqual(['exit 126']);
  });

  it('--rewrite: SIGTERM is forwarded as SIGINT', async () => {
    const { sim, code } = await runInitOnSim(
      ['--rewrite', 'TERM:INT', '--', 'app'],
      { app: [{ on: 'SIGINT', do: 'exit', code: 0 }, { on: 'SIGTERM', do: 'exit', code: 99 }, { pause: true }] },
      { before: (sim) => sim.at(10, () => sim.signal('pidone', 'SIGTERM')) },
    );
    expect(code).toBe(0);
    expect(signalsTo(sim, 'app', 'SIGINT')).toHaveLength(1);
    expect(signalsTo(sim, 'app', 'SIGTERM')).toHaveLength(0);
  });

  it('as PID 1, what remains after the child is SIGTERMed, then SIGKILLed after the grace period, on virtual time', async () => {
    const { sim, code } = await runInitOnSim(['--grace', '5s', '--', 'app'], {
      app: [{ doubleFork: 'stubborn' }, { sleep: 100 }, { exit: 0 }],
      stubborn: [{ ignore: 'SIGTERM' }, { pause: true }],
    });
    expect(code).toBe(0);
    const kill = sim.trace.find('signal', { signal: 'SIGKILL' })[0]!;
    expect(kill.time).toBe(5100);
    expect(sim.ps().map((p) => p.name)).toEqual(['init', 'runtime', 'pidone']);
  });

  it('as a subreaper (pid 1000 on a host), orphans come back to pidone and a sentinel outside its subtree is never signalled', async () => {
    let sentinel = 0;
    const { sim, code } = await runInitOnSim(
      ['--grace', '1s', '--', 'app'],
      { app: [{ doubleFork: 'daemon' }, { sleep: 300 }, { exit: 3 }], daemon: [{ pause: true }], sentinel: [{ pause: true }] },
      { mode: 'subreaper', hostPid: 1000, before: (s) => (sentinel = s.spawnProcess({ program: 'sentinel' })) },
    );
    expect(code).toBe(3);
    expect(sim.self().pid).toBe(1000);
    expect(sim.isChildSubreaper()).toBe(true);
    expect(sim.trace.find('reparented', { to: 1000 })).toHaveLength(1);
    expect(sim.trace.find('signal', {}, sentinel)).toEqual([]);
    expect(sim.process(sentinel)!.state).toBe('running');
    expect(sim.ps().some((p) => p.name === 'daemon')).toBe(false);
  });
});
