/**
 * The blocking wait and per-thread links (kernel/exit.c kernel_wait4, __do_wait,
 * do_notify_parent, child_wait_callback, forget_original_parent, find_alive_thread;
 * kernel/pid_namespace.c zap_pid_ns_processes; kernel/nsproxy.c unshare). Each rule is
 * also checked against Linux by test/differential/ (the scenario named in each test).
 */
import { describe, expect, it } from 'vitest';
import type { SimKernel } from '../../src/kernel/sim/index.js';
import { eventsOf, harness } from './helpers.js';

/** The root pid a named process was forked with (it may be reaped by now). */
function forkedPid(sim: SimKernel, name: string): number {
  const [fork] = eventsOf(sim, 'fork', undefined, { name });
  return fork!.pid;
}

describe('the blocking wait', () => {
  it('a wait blocked on a child that is autoreaped ends with ECHILD (do_notify_parent wakes the parent: wait-blocked-autoreap-echild)', () => {
    const { sim } = harness();
    const parent = sim.spawnProcess({
      program: [{ ignore: 'SIGCHLD' }, { fork: [{ sleep: 10 }, { exit: 0 }], as: 'kid' }, { wait: 'kid' }, { report: 'after' }, { pause: true }],
      parent: 1,
      name: 'parent',
    });
    sim.advance(20);
    expect(eventsOf(sim, 'autoreaped', forkedPid(sim, 'kid'))).toHaveLength(1);
    expect(eventsOf(sim, 'error', parent, { syscall: 'waitpid', errno: 'ECHILD' })).toHaveLength(1);
    expect(eventsOf(sim, 'report', parent, { label: 'after' })).toHaveLength(1);
  });

  it('wait(0) is not woken by a child that left the group (eligible_pid: wait-group-not-woken-by-leaver)', () => {
    const { sim } = harness();
    const parent = sim.spawnProcess({
      program: [{ fork: [{ setpgid: { pid: 0, pgid: 0 } }, { sleep: 10 }, { exit: 0 }], as: 'leaver' }, { wait: 0 }, { report: 'after' }],
      parent: 1,
      name: 'parent',
    });
    sim.advance(20);
    expect(sim.process('leaver')!.state).toBe('zombie');
    expect(eventsOf(sim, 'error', parent)).toHaveLength(0);
    expect(eventsOf(sim, 'waited', parent)).toHaveLength(0);
    expect(eventsOf(sim, 'report', parent)).toHaveLength(0);
  });

  it('wait(0) keeps the group it read at the start when a thread moves the process (kernel_wait4: wait-group-fixed-at-start)', () => {
    const { sim } = harness();
    const parent = sim.spawnProcess({
      program: [
        { fork: [{ sleep: 10 }, { exit: 2 }], as: 'kid' },
        { thread: [{ setpgid: { pid: 0, pgid: 0 } }, { pause: true }] },
        { wait: 0 },
        { pause: true },
      ],
      parent: 1,
      name: 'parent',
    });
    sim.advance(20);
    expect(eventsOf(sim, 'setpgid', parent)).toHaveLength(1);
    expect(eventsOf(sim, 'waited', parent, { child: forkedPid(sim, 'kid'), status: 'exit 2' })).toHaveLength(1);
  });

  it('waitpid(INT_MIN) is ESRCH (kernel_wait4: wait-int-min-esrch)', () => {
    const { sim } = harness();
    const parent = sim.spawnProcess({ program: [{ wait: -2147483648 }, { pause: true }], parent: 1, name: 'parent' });
    sim.run();
    expect(eventsOf(sim, 'error', parent, { syscall: 'waitpid', errno: 'ESRCH' })).toHaveLength(1);
  });
});

describe('a dying namespace init', () => {
  it('stays exiting while a group id of its namespace that it joined is allocated, until its parent moves it (pid_allocated == init_pids: zap-init-in-inner-group)', () => {
    const { sim } = harness();
    sim.defineProgram('nsinit', [
      { fork: [{ setpgid: { pid: 0, pgid: 0 } }, { sleep: 8 }, { exit: 0 }], as: 'leader' },
      { sleep: 5 },
      { setpgid: { pid: 0, pgid: 'leader' } },
      { wait: 'leader' },
      { exit: 0 },
    ]);
    sim.spawnProcess({ program: [{ fork: 'nsinit', as: 'nsinit', newPidNs: true, exec: false }, { pause: true }], parent: 1, name: 'mid' });
    sim.advance(20);
    expect(sim.process('leader')).toBeNull();
    expect(sim.process('nsinit')!.state).toBe('exiting');
    sim.perform('mid', [{ setpgid: { pid: 'nsinit', pgid: 'nsinit' } }]);
    sim.run();
    expect(sim.process('nsinit')!.state).toBe('zombie');
  });
});

describe('per-thread links', () => {
  it('wait(-1) scans the calling thread\'s own children first (__do_wait: thread-children-wait-own-first)', () => {
    const { sim } = harness();
    sim.spawnProcess({
      program: [
        { fork: [{ exit: 1 }], as: 'older' },
        { thread: [{ fork: [{ exit: 2 }], as: 'own' }, { sleep: 10 }, { wait: -1, nohang: true }, { pause: true }] },
        { pause: true },
      ],
      parent: 1,
      name: 'parent',
    });
    sim.advance(20);
    const waited = eventsOf(sim, 'waited');
    expect(waited).toHaveLength(1);
    expect(waited[0]!.details['child']).toBe(forkedPid(sim, 'own'));
  });

  it('the parent-death signal fires when the forking thread exits, though its process lives on (forget_original_parent: pdeathsig-forking-thread-exits)', () => {
    const { sim } = harness();
    sim.spawnProcess({
      program: [
        { thread: [{ fork: [{ on: 'SIGUSR1', do: 'record' }, { pdeathsig: 'SIGUSR1' }, { pause: true }], as: 'kid' }, { sleep: 10 }, { threadExit: 0 }] },
        { pause: true },
      ],
      parent: 1,
      name: 'parent',
    });
    sim.advance(20);
    expect(eventsOf(sim, 'caught', forkedPid(sim, 'kid'), { signal: 'SIGUSR1' })).toHaveLength(1);
    expect(sim.process('kid')!.ppid).toBe(sim.pidOf('parent'));
  });

  it('a thread\'s parent-death signal leaves with the thread (pdeathsig-thread-exited)', () => {
    const { sim } = harness();
    sim.spawnProcess({
      program: [
        { fork: [{ on: 'SIGUSR1', do: 'record' }, { thread: [{ pdeathsig: 'SIGUSR1' }, { threadExit: 0 }] }, { pause: true }], as: 'kid' },
        { sleep: 10 },
        { exit: 0 },
      ],
      parent: 1,
      name: 'parent',
    });
    sim.advance(20);
    expect(eventsOf(sim, 'reparented', forkedPid(sim, 'kid'))).toHaveLength(1);
    expect(eventsOf(sim, 'caught', forkedPid(sim, 'kid'))).toHaveLength(0);
  });

  it('unshare(CLONE_NEWPID) by one thread leaves the other thread\'s children in the namespace (unshare-per-thread-fork)', () => {
    const { sim } = harness();
    sim.spawnProcess({
      program: [
        { thread: [{ unshare: 'pid' }, { sleep: 10 }, { fork: [{ report: 'by-thread' }, { pause: true }], as: 'b' }, { pause: true }] },
        { sleep: 5 },
        { fork: [{ report: 'by-main' }, { pause: true }], as: 'a' },
        { pause: true },
      ],
      parent: 1,
      name: 'parent',
    });
    sim.advance(20);
    const [byMain] = eventsOf(sim, 'report', undefined, { label: 'by-main' });
    const [byThread] = eventsOf(sim, 'report', undefined, { label: 'by-thread' });
    expect(byMain!.details['getpid']).not.toBe(1);
    expect(byThread!.details['getpid']).toBe(1);
  });
});
