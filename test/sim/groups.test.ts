/**
 * Process groups and sessions: setpgid(2) and setsid(2) as kernel/sys.c implements
 * them, and orphaned process groups (kernel/exit.c kill_orphaned_pgrp, POSIX 3.2.2.2).
 */
import { describe, expect, it } from 'vitest';
import { errorsOf, eventsOf, harness, spawnReq } from './helpers.js';

describe('setpgid(2)', () => {
  it('a parent may move its child into a new group before the child execs', () => {
    const { sim } = harness();
    sim.defineProgram('sh', [{ fork: [{ pause: true }], exec: false, as: 'kid' }, { setpgid: { pid: 'child', pgid: 0 } }, { pause: true }]);
    sim.spawn(spawnReq('sh'));
    sim.run();
    const kid = sim.process('kid')!;
    expect(kid.pgid).toBe(kid.pid);
    expect(errorsOf(sim, sim.pidOf('sh')!)).toEqual([]);
  });

  it('EACCES once the child has exec\'d (PF_FORKNOEXEC cleared)', () => {
    const { sim } = harness();
    sim.defineProgram('worker', [{ pause: true }]);
    sim.defineProgram('sh', [{ fork: 'worker' }, { setpgid: { pid: 'child', pgid: 0 } }, { pause: true }]);
    sim.spawn(spawnReq('sh'));
    sim.run();
    expect(errorsOf(sim, sim.pidOf('sh')!)).toEqual(['setpgid:EACCES']);
  });

  it('EPERM when the child is in another session', () => {
    const { sim } = harness();
    sim.defineProgram('sh', [
      { fork: [{ setsid: true }, { pause: true }], exec: false },
      { sleep: 1 },
      { setpgid: { pid: 'child', pgid: 0 } },
      { pause: true },
    ]);
    sim.spawn(spawnReq('sh'));
    sim.advance(5);
    expect(errorsOf(sim, sim.pidOf('sh')!)).toEqual(['setpgid:EPERM']);
  });

  it('ESRCH for a process that is neither the caller nor its child', () => {
    const { sim } = harness();
    sim.defineProgram('sh', [{ setpgid: { pid: 'parent', pgid: 0 } }, { setpgid: { pid: 999, pgid: 0 } }, { pause: true }]);
    sim.spawn(spawnReq('sh'));
    sim.run();
    expect(errorsOf(sim, sim.pidOf('sh')!)).toEqual(['setpgid:ESRCH', 'setpgid:ESRCH']);
  });

  it('EINVAL for a negative pgid; EPERM for a session leader; EPERM to join a group of another session', () => {
    const { sim } = harness();
    sim.defineProgram('leader', [{ pause: true }]);
    sim.spawn(spawnReq('leader', { setsid: true }));
    const other = sim.vpidOf('leader');
    sim.defineProgram('sh', [
      { setpgid: { pid: 0, pgid: -5 } },
      { fork: [{ setpgid: { pid: 0, pgid: other } }, { setsid: true }, { setpgid: { pid: 0, pgid: 0 } }, { pause: true }], exec: false, as: 'kid' },
      { pause: true },
    ]);
    sim.spawn(spawnReq('sh'));
    sim.run();
    expect(errorsOf(sim, sim.pidOf('sh')!)).toEqual(['setpgid:EINVAL']);
    expect(errorsOf(sim, sim.pidOf('kid')!)).toEqual(['setpgid:EPERM', 'setpgid:EPERM']);
  });

  it('spawn puts the child in its own group, and the parent\'s setpgid after exec is EACCES', () => {
    const { sim } = harness();
    sim.defineProgram('app', [{ pause: true }]);
    const { pid, pgid } = sim.spawn(spawnReq('app'));
    expect(pgid).toBe(pid);
  });
});

describe('setsid(2)', () => {
  it('EPERM for a process group leader (a group with its pid exists)', () => {
    const { sim } = harness();
    sim.defineProgram('app', [{ setsid: true }, { pause: true }]);
    sim.spawn(spawnReq('app')); // spawn made it a group leader
    sim.run();
    expect(errorsOf(sim, sim.pidOf('app')!)).toEqual(['setsid:EPERM']);
  });

  it('a forked child becomes leader of a new session and group; a second setsid is EPERM', () => {
    const { sim } = harness();
    sim.defineProgram('app', [{ fork: [{ setsid: true }, { setsid: true }, { pause: true }], exec: false, as: 'kid' }, { pause: true }]);
    sim.spawn(spawnReq('app'));
    sim.run();
    const kid = sim.process('kid')!;
    expect(kid.sid).toBe(kid.pid);
    expect(kid.pgid).toBe(kid.pid);
    expect(errorsOf(sim, kid.pid)).toEqual(['setsid:EPERM']);
  });
});

describe('orphaned process groups (kill_orphaned_pgrp)', () => {
  // sh leads session S; job leads group J in S; worker (in J) stops itself. When job
  // exits, J's only link outside (job, whose parent sh is in S but another group) is
  // gone: J is orphaned and has a stopped member, so J gets SIGHUP then SIGCONT.
  const programs = (workerSteps: object[]) => ({
    sh: [{ fork: 'job' }, { pause: true }],
    job: [{ setpgid: { pid: 0, pgid: 0 } }, { fork: 'worker' }, { sleep: 10 }, { exit: 0 }],
    worker: workerSteps,
  });

  it('a stopped member gets SIGHUP and SIGCONT when its group becomes orphaned, and dies of the SIGHUP', () => {
    const { sim } = harness({ programs: programs([{ kill: 'self', signal: 'SIGSTOP' }, { pause: true }]) as never });
    sim.spawn(spawnReq('sh', { setsid: true }));
    sim.advance(5);
    const worker = sim.pidOf('worker')!;
    expect(sim.process(worker)!.state).toBe('stopped');
    sim.advance(10);
    expect(eventsOf(sim, 'orphaned-pgrp')).toHaveLength(1);
    const signals = eventsOf(sim, 'signal', worker).map((e) => e.details['signal']);
    expect(signals).toEqual(['SIGSTOP', 'SIGHUP', 'SIGCONT']);
    // SIGHUP is fatal by default, but a stopped task does not want it (wants_signal()),
    // so it stays pending; the SIGCONT that follows continues the worker, which then
    // acts on the SIGHUP (checked against Linux by test/differential/).
    expect(eventsOf(sim, 'continued', worker)).toHaveLength(1);
    expect(eventsOf(sim, 'exit', worker)[0]!.details['status']).toBe('SIGHUP');
  });

  it('a member that handles SIGHUP survives and runs on', () => {
    const { sim } = harness({
      programs: programs([{ on: 'SIGHUP' }, { kill: 'self', signal: 'SIGSTOP' }, { pause: true }]) as never,
    });
    sim.spawn(spawnReq('sh', { setsid: true }));
    sim.advance(5);
    const worker = sim.pidOf('worker')!;
    sim.advance(15);
    expect(eventsOf(sim, 'continued', worker)).toHaveLength(1);
    expect(eventsOf(sim, 'caught', worker, { signal: 'SIGHUP' })).toHaveLength(1);
    expect(sim.process(worker)!.state).toBe('running');
  });

  it('no signal when no member is stopped', () => {
    const { sim } = harness({ programs: programs([{ pause: true }]) as never });
    sim.spawn(spawnReq('sh', { setsid: true }));
    sim.advance(20);
    expect(eventsOf(sim, 'orphaned-pgrp')).toHaveLength(0);
    expect(sim.process('worker')!.state).toBe('running');
  });

  it('SIGTSTP is discarded in an orphaned group but stops a process in a group that is not (get_signal, is_current_pgrp_orphaned)', () => {
    const { sim } = harness();
    sim.defineProgram('app', [{ pause: true }]);
    // setsid: its parent pidone is in another session, so the new group is orphaned from the start.
    const orphan = sim.spawn(spawnReq('app', { setsid: true })).pid;
    // without setsid: parent pidone is in the same session and another group.
    const joined = sim.spawn(spawnReq('app')).pid;
    sim.kill(orphan, 'SIGTSTP');
    sim.kill(joined, 'SIGTSTP');
    sim.run();
    const ps = sim.ps();
    expect(ps.find((p) => p.vpid === orphan)!.state).toBe('running');
    expect(ps.find((p) => p.vpid === joined)!.state).toBe('stopped');
    expect(eventsOf(sim, 'ignored', undefined, { reason: 'orphaned process group' })).toHaveLength(1);
  });
});
