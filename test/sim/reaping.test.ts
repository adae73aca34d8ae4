/**
 * Zombies and wait (kernel/exit.c do_wait, wait_task_zombie, release_task; wait(2)).
 */
import { describe, expect, it } from 'vitest';
import { errorsOf, eventsOf, harness, spawnReq } from './helpers.js';

describe('zombies and waitpid', () => {
  it('an exited child is a zombie until its parent waits for it', () => {
    const { sim } = harness({ reap: false });
    sim.defineProgram('app', [{ exit: 3 }]);
    const { pid } = sim.spawn(spawnReq('app'));
    sim.run();
    expect(sim.process('app')!.state).toBe('zombie');
    expect(sim.process('app')!.status).toBe('exit 3');
    expect(sim.reap()).toEqual({ statuses: [{ pid, kind: 'exited', code: 3 }], noChildren: true });
    expect(sim.process('app')).toBeNull();
  });

  it('WNOHANG returns nothing while children live, ECHILD when there are none (wait(2))', () => {
    const { sim } = harness({ reap: false });
    expect(sim.reap()).toEqual({ statuses: [], noChildren: true });
    sim.defineProgram('app', [{ pause: true }]);
    sim.spawn(spawnReq('app'));
    expect(sim.reap()).toEqual({ statuses: [], noChildren: false });
  });

  it('waitpid by pid, by -pgid and by -1, blocking and with WNOHANG', () => {
    const { sim } = harness();
    sim.defineProgram('parent', [
      { fork: [{ exit: 1 }], exec: false, as: 'a' },
      { fork: [{ setpgid: { pid: 0, pgid: 0 } }, { sleep: 50 }, { exit: 2 }], exec: false, as: 'b' },
      { fork: [{ sleep: 80 }, { exit: 4 }], exec: false, as: 'c' },
      { wait: 'b', nohang: true },
      { wait: -1 },
      { wait: 'b', group: true },
      { wait: 'c' },
      { wait: -1 },
      { pause: true },
    ]);
    sim.spawn(spawnReq('parent'));
    sim.advance(100);
    const parent = sim.pidOf('parent')!;
    const waited = eventsOf(sim, 'waited', parent).map((e) => `${e.time}:${e.details['status']}`);
    expect(waited).toEqual(['0:none (WNOHANG)', '0:exit 1', '50:exit 2', '80:exit 4']);
    expect(errorsOf(sim, parent)).toEqual(['waitpid:ECHILD']);
  });

  it('a parent that ignores SIGCHLD never has zombies: children are autoreaped (wait(2) NOTES)', () => {
    const { sim } = harness();
    sim.defineProgram('parent', [{ ignore: 'SIGCHLD' }, { fork: [{ exit: 0 }], exec: false }, { sleep: 10 }, { wait: -1 }, { pause: true }]);
    sim.spawn(spawnReq('parent'));
    sim.advance(20);
    expect(eventsOf(sim, 'autoreaped')).toHaveLength(1);
    expect(eventsOf(sim, 'zombie')).toHaveLength(1);
    expect(errorsOf(sim, sim.pidOf('parent')!)).toEqual(['waitpid:ECHILD']);
  });

  it('reap() collects every zombie in one pass although SIGCHLD coalesced', () => {
    const { sim, batches, reaped } = harness();
    sim.defineProgram('quick', [{ exit: 0 }]);
    for (let i = 0; i < 5; i++) sim.spawn(spawnReq('quick'));
    sim.run();
    expect(batches).toEqual([[{ signal: 'SIGCHLD', count: 1, fromSelf: 0 }]]);
    expect(reaped).toHaveLength(5);
  });
});
