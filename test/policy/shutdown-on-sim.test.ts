/**
 * The shutdown policy (--remaining, --grace, a second TERM, --pdeathsig, the abort
 * path) on the simulated kernel: the same src/init.ts as on Linux, unprivileged, on
 * virtual time. The real-kernel versions are in test/linux/shutdown.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { SimKernel } from '../../src/kernel/sim/index.js';
import { runInitOnSim as run } from '../sim/init-harness.js';

const alive = (sim: SimKernel, name: string) => sim.ps().filter((p) => p.name === name);

describe.each(['pid1', 'subreaper'] as const)('shutdown policy on the simulator, as %s', (mode) => {
  it('--remaining kill: a TERM-trapping leftover cleans up and exits, pidone exits with the child\'s code at once', async () => {
    const { sim, code, logs } = await run(['--grace', '5s', '--', 'app'], {
      app: [{ doubleFork: 'cleaner' }, { sleep: 100 }, { exit: 7 }],
      cleaner: [{ on: 'SIGTERM', run: [{ note: 'cleaned up' }, { exit: 0 }] }, { pause: true }],
    }, { mode });
    expect(code).toBe(7);
    expect(sim.trace.find('note', { text: 'cleaned up' })).toHaveLength(1);
    expect(sim.trace.find('signal', { signal: 'SIGKILL' })).toEqual([]);
    // No grace period spent: the cleaner went as soon as it was asked.
    expect(sim.now()).toBe(100);
    expect(logs.find((l) => l['msg'] === 'nothing remains; exiting')).toMatchObject({ exitCode: 7, aliveAtTerm: 1, aliveAtKill: 0 });
    // Counted before the SIGTERM as PID 1; a subreaper counts as its pass signals.
    const sending = logs.find((l) => l['msg'] === 'child exited; sending SIGTERM to what remains');
    expect(sending?.['descendants']).toBe(mode === 'pid1' ? 1 : undefined);
  });

  it('--remaining kill with a leftover forking every 10 ms: fully killed after the grace period', async () => {
    const { sim, code } = await run(['--grace', '300ms', '--', 'app'], {
      app: [{ doubleFork: 'forker' }, { sleep: 50 }, { exit: 0 }],
      forker: [{ ignore: 'SIGTERM' }, { repeat: 1000, steps: [{ fork: 'spawnling' }, { sleep: 10 }] }],
      spawnling: [{ ignore: 'SIGTERM' }, { pause: true }],
    }, { mode });
    expect(code).toBe(0);
    expect(alive(sim, 'forker')).toEqual([]);
    expect(alive(sim, 'spawnling')).toEqual([]);
  });

  it('--remaining wait: waits for the worker a daemon left, then exits with the daemon\'s code', async () => {
    const { sim, code } = await run(['--remaining', 'wait', '--', 'app'], {
      app: [{ doubleFork: 'worker' }, { exit: 0 }],
      worker: [{ sleep: 1000 }, { note: 'worker done' }, { exit: 0 }],
    }, { mode });
    expect(code).toBe(0);
    expect(sim.trace.find('note', { text: 'worker done' })).toHaveLength(1);
    expect(sim.now()).toBe(1000);
    expect(sim.trace.find('signal', { signal: 'SIGTERM' })).toEqual([]);
  });

  it('--remaining leave: exits at once, the leftover is left', async () => {
    const { sim, code } = await run(['--remaining', 'leave', '--', 'app'], {
      app: [{ doubleFork: 'daemon' }, { sleep: 10 }, { exit: 6 }],
      daemon: [{ pause: true }],
    }, { mode, timeLimit: 1000 });
    expect(code).toBe(6);
    expect(sim.trace.find('signal', { signal: 'SIGTERM' })).toEqual([]);
  });

  it('a second SIGTERM during the grace period goes straight to SIGKILL', async () => {
    const { sim, code } = await run(['--grace', '1m', '--', 'app'], {
      app: [{ doubleFork: 'stubborn' }, { sleep: 100 }, { exit: 0 }],
      stubborn: [{ ignore: 'SIGTERM' }, { pause: true }],
    }, { mode, before: (s) => s.at(2000, () => s.signal('pidone', 'SIGTERM')) });
    expect(code).toBe(0);
    const kill = sim.trace.find('signal', { signal: 'SIGKILL' })[0]!;
    expect(kill.time).toBe(2000);
  });

  it('a stopped leftover gets SIGCONT with its SIGTERM, so it can act on it', async () => {
    const { sim, code } = await run(['--grace', '5s', '--', 'app'], {
      app: [{ doubleFork: 'sleeper' }, { sleep: 100 }, { exit: 0 }],
      sleeper: [{ on: 'SIGTERM', do: 'exit', code: 0 }, { kill: 'self', signal: 'SIGSTOP' }, { pause: true }],
    }, { mode });
    expect(code).toBe(0);
    expect(sim.trace.find('signal', { signal: 'SIGKILL' })).toEqual([]);
    expect(sim.now()).toBe(100);
  });

  it('an internal error (abort): the child is shut down too, and the code is 125', async () => {
    const { sim, code, logs } = await run(['--grace', '2s', '--', 'app'], {
      app: [{ on: 'SIGTERM', run: [{ note: 'app got SIGTERM' }, { exit: 0 }] }, { pause: true }],
    }, { mode, before: (s, init) => s.at(500, () => init.abort(125)) });
    expect(code).toBe(125);
    expect(sim.trace.find('note', { text: 'app got SIGTERM' })).toHaveLength(1);
    // The same SIGTERM round as the drain's: the app was alive when it went out, and it was enough.
    expect(logs.find((l) => l['msg'] === 'nothing remains; exiting')).toMatchObject({ exitCode: 0, aliveAtTerm: 1, aliveAtKill: 0, escalation: 'term' });
  });
});

describe('what remains without a /proc to walk, on the simulator', () => {
  const blind = "cannot see the descendants in /proc: signalling only pidone's own children";

  it.each(['absent', 'foreign', 'no-children'] as const)(
    'as a subreaper with /proc %s: warns once, finds its children with waitid, and still kills a TERM-ignoring grandchild',
    async (procView) => {
      const { sim, code, logs } = await run(['--grace', '1s', '--', 'app'], {
        app: [{ doubleFork: 'parent' }, { sleep: 100 }, { exit: 3 }],
        // The daemon's child is out of sight until the daemon is killed and it comes
        // back to pidone.
        parent: [{ ignore: 'SIGTERM' }, { fork: 'stubborn' }, { pause: true }],
        stubborn: [{ ignore: 'SIGTERM' }, { pause: true }],
      }, { mode: 'subreaper', procView });
      expect(code).toBe(3);
      expect(alive(sim, 'parent')).toEqual([]);
      expect(alive(sim, 'stubborn')).toEqual([]);
      const warnings = logs.filter((l) => l['msg'] === blind);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatchObject({ level: 'warn', proc: procView });
      // Nothing was waited for forever: the grace period, then a SIGKILL round for each level.
      expect(sim.now()).toBeLessThan(100 + 1000 + 1000);
    },
  );

  it('a leftover that obeys SIGTERM is found and ends at once, with no /proc', async () => {
    const { sim, code } = await run(['--grace', '1m', '--', 'app'], {
      app: [{ doubleFork: 'cleaner' }, { sleep: 100 }, { exit: 7 }],
      cleaner: [{ on: 'SIGTERM', run: [{ note: 'cleaned up' }, { exit: 0 }] }, { pause: true }],
    }, { mode: 'subreaper', procView: 'absent' });
    expect(code).toBe(7);
    expect(sim.trace.find('note', { text: 'cleaned up' })).toHaveLength(1);
    expect(sim.trace.find('signal', { signal: 'SIGKILL' })).toEqual([]);
    expect(sim.now()).toBe(100);
  });

  it('as PID 1, kill(-1) needs no /proc: no warning, and a TERM-ignoring leftover is killed after the grace period', async () => {
    const { sim, code, logs } = await run(['--grace', '1s', '--', 'app'], {
      app: [{ doubleFork: 'stubborn' }, { sleep: 100 }, { exit: 0 }],
      stubborn: [{ ignore: 'SIGTERM' }, { pause: true }],
    }, { mode: 'pid1', procView: 'foreign' });
    expect(code).toBe(0);
    expect(alive(sim, 'stubborn')).toEqual([]);
    expect(sim.now()).toBe(1100);
    expect(logs.map((l) => l['msg'])).not.toContain(blind);
  });

  it('with its own /proc, a pass over 1,000 leftovers signals each one once and counts them', async () => {
    const { sim, code, logs } = await run(['--grace', '1s', '--', 'app'], {
      app: [{ repeat: 1000, steps: [{ doubleFork: 'stubborn' }] }, { exit: 0 }],
      stubborn: [{ ignore: 'SIGTERM' }, { pause: true }],
    }, { mode: 'subreaper' });
    expect(code).toBe(0);
    expect(sim.trace.find('signal', { signal: 'SIGTERM' })).toHaveLength(1000);
    expect(sim.trace.find('signal', { signal: 'SIGKILL' })).toHaveLength(1000);
    expect(logs.find((l) => l['msg'] === 'nothing remains; exiting')).toMatchObject({ aliveAtTerm: 1000, aliveAtKill: 1000 });
  });
});

describe('--pdeathsig on the simulator', () => {
  it('a parent that died before PR_SET_PDEATHSIG still counts: the signal is acted on at once', async () => {
    // pidone started under a parent (99999) that is not its parent any more.
    const { code, logs } = await run(['--pdeathsig', 'TERM', '--', 'app'], { app: [{ pause: true }] }, {
      mode: 'subreaper',
      initialPpid: 99999,
    });
    // Forwarded right after the spawn: the child dies of it.
    expect(code).toBe(143);
    expect(logs.map((l) => l['msg'])).toContain('parent died before --pdeathsig was set; acting as if the signal came');
  });

  it('with the parent still there, nothing happens until a signal comes', async () => {
    const { code, logs } = await run(['--pdeathsig', 'TERM', '--', 'app'], { app: [{ sleep: 10 }, { exit: 0 }] }, {
      mode: 'subreaper',
      initialPpid: 'actual',
    });
    expect(code).toBe(0);
    expect(logs.map((l) => l['msg'])).not.toContain('parent died before --pdeathsig was set; acting as if the signal came');
  });
});
