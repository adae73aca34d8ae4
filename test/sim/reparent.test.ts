/**
 * Orphans go to the nearest live child subreaper in the same PID namespace, else to
 * the namespace's init (kernel/exit.c find_new_reaper; prctl(2)
 * PR_SET_CHILD_SUBREAPER; pid_namespaces(7)).
 */
import { describe, expect, it } from 'vitest';
import { eventsOf, harness, spawnReq } from './helpers.js';

describe('reparenting', () => {
  it('without a subreaper, an orphan goes to the namespace init (pidone as PID 1), which reaps it', () => {
    const { sim, reaped } = harness();
    sim.defineProgram('daemon', [{ sleep: 10 }, { exit: 0 }]);
    sim.defineProgram('app', [{ doubleFork: 'daemon' }, { pause: true }]);
    sim.spawn(spawnReq('app'));
    sim.run();
    const daemon = sim.process('daemon')!;
    expect(daemon.ppid).toBe(sim.pidonePid);
    sim.advance(20);
    expect(reaped.map((r) => r.pid)).toContain(daemon.vpid);
  });

  it('the nearest subreaper ancestor takes the orphan, not a farther one or init', () => {
    const { sim } = harness();
    sim.defineProgram('outer', [{ subreaper: true }, { fork: 'inner' }, { pause: true }]);
    sim.defineProgram('inner', [{ subreaper: true }, { fork: 'mid' }, { pause: true }]);
    sim.defineProgram('mid', [{ fork: 'leaf' }, { exit: 0 }]);
    sim.defineProgram('leaf', [{ pause: true }]);
    sim.spawn(spawnReq('outer'));
    sim.run();
    expect(sim.process('leaf')!.ppid).toBe(sim.pidOf('inner'));
    expect(eventsOf(sim, 'reparented', sim.pidOf('leaf')!)[0]!.details).toEqual({ from: expect.any(Number), to: sim.pidOf('inner') });
  });

  it('a subreaper in an ancestor namespace is not used: the orphan goes to its own namespace init', () => {
    const { sim } = harness();
    sim.defineProgram('top', [{ subreaper: true }, { fork: 'nsinit', newPidNs: true }, { pause: true }]);
    sim.defineProgram('nsinit', [{ fork: 'mid' }, { pause: true }]);
    sim.defineProgram('mid', [{ fork: 'leaf' }, { exit: 0 }]);
    sim.defineProgram('leaf', [{ pause: true }]);
    sim.spawn(spawnReq('top'));
    sim.run();
    const nsinit = sim.process('nsinit')!;
    expect(nsinit.nsInit).toBe(true);
    expect(nsinit.nsPids.at(-1)).toBe(1);
    expect(sim.process('leaf')!.ppid).toBe(nsinit.pid);
  });

  it('pidone as a subreaper outside a namespace gets its descendants\' orphans; when it dies they go to the root init', () => {
    const { sim } = harness({ mode: 'subreaper', hostPid: 1000 });
    expect(sim.self().pid).toBe(1000);
    sim.setChildSubreaper(true);
    sim.defineProgram('daemon', [{ pause: true }]);
    sim.defineProgram('app', [{ doubleFork: 'daemon' }, { pause: true }]);
    sim.spawn(spawnReq('app'));
    sim.run();
    expect(sim.process('daemon')!.ppid).toBe(1000);
    sim.signal('pidone', 'SIGKILL');
    sim.run();
    expect(sim.process('daemon')!.ppid).toBe(1);
    expect(sim.process('app')!.ppid).toBe(1);
  });

  it('a subreaper that is itself exiting is skipped (find_alive_thread)', () => {
    const { sim } = harness();
    // top is a subreaper; it and mid are killed together: mid's orphan must not go to the dying top.
    sim.defineProgram('top', [{ subreaper: true }, { fork: 'mid' }, { pause: true }]);
    sim.defineProgram('mid', [{ fork: 'leaf' }, { pause: true }]);
    sim.defineProgram('leaf', [{ pause: true }]);
    const { pgid } = sim.spawn(spawnReq('top'));
    sim.run();
    sim.kill(-pgid, 'SIGKILL');
    sim.run();
    // leaf was in the same group and died too; its reparenting went to a live reaper.
    for (const e of eventsOf(sim, 'reparented')) expect(e.details['to']).not.toBe(sim.pidOf('top') ?? -1);
  });

  it('PR_SET_PDEATHSIG: the child gets its signal when the parent dies', () => {
    const { sim } = harness();
    sim.defineProgram('app', [{ fork: [{ pdeathsig: 'SIGTERM' }, { pause: true }], exec: false, as: 'kid' }, { sleep: 5 }, { exit: 0 }]);
    sim.spawn(spawnReq('app'));
    sim.run();
    const kid = sim.pidOf('kid')!;
    sim.advance(10);
    expect(eventsOf(sim, 'pdeathsig', kid)).toHaveLength(1);
    expect(eventsOf(sim, 'exit', kid)[0]!.details['status']).toBe('SIGTERM');
  });

  it('a zombie orphan is announced to its new parent at once (reparent_leader -> do_notify_parent)', () => {
    const { sim, reaped } = harness();
    sim.defineProgram('app', [{ fork: [{ exit: 6 }], exec: false, as: 'kid' }, { sleep: 5 }, { exit: 0 }]);
    const { pid } = sim.spawn(spawnReq('app'));
    sim.advance(10);
    expect(reaped.map((r) => r.status).sort()).toEqual(['exit 0', 'exit 6']);
    expect(reaped.find((r) => r.pid === pid)!.status).toBe('exit 0');
  });
});
