/**
 * Thread groups: getpid() is the tgid (sys_getpid), exit(2) ends one thread while
 * exit_group(2) ends them all, and a leader that exits first stays a zombie until its
 * last thread is gone (delay_group_leader(), exit_notify()).
 */
import { describe, expect, it } from 'vitest';
import { eventsOf, harness, spawnReq } from './helpers.js';

describe('thread groups', () => {
  it('every thread sees getpid() == the leader\'s pid and its own gettid() (sys_getpid returns the tgid)', () => {
    const { sim } = harness();
    sim.defineProgram('mt', [{ thread: [{ report: 'thread' }, { pause: true }] }, { report: 'main' }, { pause: true }]);
    const { pid } = sim.spawn(spawnReq('mt'));
    sim.run();
    const [main] = eventsOf(sim, 'report', undefined, { label: 'main' });
    const [thread] = eventsOf(sim, 'report', undefined, { label: 'thread' });
    expect(main!.details['getpid']).toBe(pid);
    expect(main!.details['gettid']).toBe(pid);
    expect(thread!.details['getpid']).toBe(pid);
    expect(thread!.details['gettid']).not.toBe(pid);
    expect(sim.process('mt')!.threads).toHaveLength(2);
  });

  it('exit(2) in a thread ends only that thread', () => {
    const { sim } = harness();
    sim.defineProgram('mt', [{ thread: [{ threadExit: 4 }] }, { sleep: 10 }, { report: 'alive' }, { pause: true }]);
    sim.spawn(spawnReq('mt'));
    sim.advance(20);
    expect(eventsOf(sim, 'thread-exit')).toHaveLength(1);
    expect(sim.process('mt')!.state).toBe('running');
    expect(sim.process('mt')!.threads).toHaveLength(1);
    expect(eventsOf(sim, 'report', undefined, { label: 'alive' })).toHaveLength(1);
  });

  it('exit_group(2) from any thread ends the whole process with that code', () => {
    const { sim, reaped } = harness();
    sim.defineProgram('mt', [{ thread: [{ sleep: 5 }, { exit: 9 }] }, { thread: [{ pause: true }] }, { pause: true }]);
    const { pid } = sim.spawn(spawnReq('mt'));
    sim.advance(10);
    expect(reaped).toEqual([{ pid, status: 'exit 9' }]);
  });

  it('a leader that exits before its threads is a zombie thread; the process is not waitable until the last thread ends, and wait reports the last thread\'s code', () => {
    const { sim } = harness({ reap: false });
    sim.defineProgram('mt', [{ thread: [{ sleep: 100 }, { threadExit: 7 }] }, { threadExit: 5 }]);
    const { pid } = sim.spawn(spawnReq('mt'));
    sim.advance(50);
    const info = sim.process('mt')!;
    expect(info.state).toBe('running');
    expect(info.threads).toHaveLength(1);
    expect(info.threads[0]).not.toBe(info.pid);
    // delay_group_leader(): waitpid skips it.
    expect(sim.reap()).toEqual({ statuses: [], noChildren: false });
    sim.advance(100);
    expect(sim.process('mt')!.state).toBe('zombie');
    // synchronize_group_exit() (Linux 5.19+): the last thread to exit sets the group's
    // code. Checked against Linux by test/differential/ (zombie-leader-live-threads).
    expect(sim.reap().statuses).toEqual([{ pid, kind: 'exited', code: 7 }]);
  });

  it('the tgid of a zombie leader with live threads still names the process for kill(2)', () => {
    const { sim, reaped } = harness();
    sim.defineProgram('mt', [{ thread: [{ pause: true }] }, { threadExit: 0 }]);
    const { pid } = sim.spawn(spawnReq('mt'));
    sim.run();
    sim.kill(pid, 'SIGTERM');
    sim.run();
    expect(reaped).toEqual([{ pid, status: 'SIGTERM' }]);
  });
});
