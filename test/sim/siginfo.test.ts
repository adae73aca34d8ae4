/**
 * The siginfo a SIGCHLD handler gets (kernel/signal.c do_notify_parent,
 * do_notify_parent_cldstop, __send_signal_locked, legacy_queue). Each rule is also
 * checked against Linux by test/differential/ (the scenario named in each test).
 */
import { describe, expect, it } from 'vitest';
import { eventsOf, harness } from './helpers.js';

/** The SIGCHLD siginfos a process's handler caught, in order: 'CLD_EXITED 5 3'. */
function chldInfos(sim: ReturnType<typeof harness>['sim'], pid: number): string[] {
  return eventsOf(sim, 'caught', pid, { signal: 'SIGCHLD' }).map((e) => `${e.details['code']} ${e.details['from']} ${e.details['status'] ?? ''}`.trim());
}

describe('SIGCHLD siginfo', () => {
  it('exit, death by signal, stop and continue: CLD_EXITED, CLD_KILLED, CLD_STOPPED, CLD_CONTINUED with the child\'s pid (sigchld-info-*)', () => {
    const { sim } = harness();
    const parent = sim.spawnProcess({
      program: [
        { on: 'SIGCHLD' },
        { fork: [{ sleep: 10 }, { exit: 3 }], as: 'exits' },
        { fork: [{ pause: true }], as: 'stops' },
        { pause: true },
      ],
      parent: 1,
      name: 'parent',
    });
    sim.advance(20);
    const exits = sim.pidOf('exits')!;
    const stops = sim.pidOf('stops')!;
    sim.signal(stops, 'SIGSTOP', { from: parent });
    sim.run();
    sim.signal(stops, 'SIGCONT', { from: parent });
    sim.run();
    sim.signal(stops, 'SIGTERM', { from: parent });
    sim.run();
    expect(chldInfos(sim, parent)).toEqual([`CLD_EXITED ${exits} 3`, `CLD_STOPPED ${stops} 19`, `CLD_CONTINUED ${stops} 18`, `CLD_KILLED ${stops} 15`]);
  });

  it('a second SIGCHLD while one is pending is lost with its siginfo; the first is delivered (legacy_queue: sigchld-info-coalesced)', () => {
    const { sim } = harness();
    const parent = sim.spawnProcess({
      program: [{ on: 'SIGCHLD' }, { fork: [{ pause: true }], as: 'a' }, { fork: [{ pause: true }], as: 'b' }, { pause: true }],
      parent: 1,
      name: 'parent',
    });
    sim.run();
    const [a, b] = [sim.pidOf('a')!, sim.pidOf('b')!];
    sim.signal(parent, 'SIGSTOP');
    sim.run();
    sim.exitProcess(a, 1);
    sim.run();
    sim.exitProcess(b, 2);
    sim.run();
    sim.signal(parent, 'SIGCONT');
    sim.run();
    expect(chldInfos(sim, parent)).toEqual([`CLD_EXITED ${a} 1`]);
  });

  it('kill(2) gives SI_USER with the sender\'s pid as the receiver sees it: 0 from an ancestor namespace (sigchld-info-sent-by-kill)', () => {
    const { sim } = harness();
    const inner = sim.spawnProcess({ program: [{ on: 'SIGCHLD' }, { fork: [{ kill: 'parent', signal: 'SIGCHLD' }, { pause: true }], as: 'kid' }, { pause: true }], parent: 1, name: 'inner', newPidNs: true });
    sim.run();
    sim.signal(inner, 'SIGCHLD', { from: 1 });
    sim.run();
    expect(chldInfos(sim, inner)).toEqual(['SI_USER 2', 'SI_USER 0']);
  });
});

describe('vfork', () => {
  it('the caller waits until the child exits; a handled signal waits with it (wait_for_vfork_done: vfork-child-exits, vfork-parent-signal-waits)', () => {
    const { sim } = harness();
    const parent = sim.spawnProcess({
      program: [{ on: 'SIGUSR1' }, { fork: [{ sleep: 10 }, { exit: 3 }], as: 'kid', vfork: true, exec: false }, { report: 'resumed' }, { pause: true }],
      parent: 1,
      name: 'parent',
    });
    sim.advance(5);
    sim.signal(parent, 'SIGUSR1');
    sim.run();
    expect(eventsOf(sim, 'report', parent)).toHaveLength(0);
    expect(eventsOf(sim, 'caught', parent)).toHaveLength(0);
    sim.advance(10);
    expect(eventsOf(sim, 'vfork-done', parent)).toHaveLength(1);
    expect(eventsOf(sim, 'caught', parent, { signal: 'SIGUSR1' })).toHaveLength(1);
    expect(eventsOf(sim, 'report', parent, { label: 'resumed' })).toHaveLength(1);
  });

  it('exec ends the wait; a fatal signal ends it by killing the caller (vfork-child-execs, vfork-parent-fatal-signal)', () => {
    const { sim } = harness({ programs: { other: [{ pause: true }] } });
    const parent = sim.spawnProcess({
      program: [{ fork: [{ sleep: 10 }, { exec: 'other' }], as: 'kid', vfork: true, exec: false }, { report: 'resumed' }, { fork: [{ pause: true }], as: 'kid2', vfork: true, exec: false }, { report: 'never' }],
      parent: 1,
      name: 'parent',
    });
    sim.advance(20);
    expect(eventsOf(sim, 'report', parent, { label: 'resumed' })).toHaveLength(1);
    sim.signal(parent, 'SIGTERM');
    sim.run();
    expect(eventsOf(sim, 'exit', parent, { status: 'SIGTERM' })).toHaveLength(1);
    expect(sim.process('kid2')!.state).toBe('running');
    expect(eventsOf(sim, 'report', parent, { label: 'never' })).toHaveLength(0);
  });
});
