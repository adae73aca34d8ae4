/**
 * struct pid and alloc_pid (kernel/pid.c), PID namespaces (pid_namespaces(7)).
 */
import { describe, expect, it } from 'vitest';
import { KernelError } from '../../src/kernel/kernel.js';
import { allocPid, freePid, PidNamespace, RESERVED_PIDS } from '../../src/kernel/sim/pid-namespace.js';
import type { Pid } from '../../src/kernel/sim/pid.js';
import { harness, spawnReq } from './helpers.js';

function alloc(ns: PidNamespace): Pid {
  const p = allocPid(ns);
  if ('error' in p) throw new Error(p.error);
  return p;
}

describe('alloc_pid (kernel/pid.c)', () => {
  it('hands out numbers cyclically from the cursor, starting at 1 in a new namespace', () => {
    const ns = new PidNamespace(0, null, 32768);
    expect([alloc(ns), alloc(ns), alloc(ns)].map((p) => p.nr())).toEqual([1, 2, 3]);
    const two = ns.find(2)!;
    freePid(two);
    // idr_alloc_cyclic continues after the last number handed out, it does not refill holes.
    expect(alloc(ns).nr()).toBe(4);
  });

  it('wraps to RESERVED_PIDS (300), not 1, once the cursor has passed it ("after reaching the maximum wrap back to RESERVED_PIDS")', () => {
    const ns = new PidNamespace(0, null, 310);
    const pids = Array.from({ length: 309 }, () => alloc(ns));
    expect(pids.at(-1)!.nr()).toBe(309);
    freePid(pids[4]!); // number 5, below RESERVED_PIDS
    freePid(pids[304]!); // number 305
    expect(alloc(ns).nr()).toBe(305);
    // Only 5 is free now, and it is below RESERVED_PIDS: the namespace is full.
    expect(allocPid(ns)).toEqual({ error: 'EAGAIN' });
    expect(RESERVED_PIDS).toBe(300);
  });

  it('numbers stay below pid_max and a full namespace gives EAGAIN (fork(2))', () => {
    const ns = new PidNamespace(0, null, 4);
    expect([alloc(ns), alloc(ns), alloc(ns)].map((p) => p.nr())).toEqual([1, 2, 3]);
    expect(allocPid(ns)).toEqual({ error: 'EAGAIN' });
  });

  it('a struct pid has one number per level: pid_nr (root), pid_nr_ns, and 0 where it is not visible', () => {
    const root = new PidNamespace(0, null, 32768);
    const child = new PidNamespace(1, root, 32768);
    alloc(root);
    alloc(root);
    const p = alloc(child);
    expect(p.level).toBe(1);
    expect(p.nr()).toBe(3); // pid_nr(): the root namespace's number
    expect(p.nrNs(child)).toBe(1); // pid_nr_ns(child): the first process of a namespace is its PID 1
    expect(p.nrNs(root)).toBe(3);
    const rootOnly = root.find(1)!;
    expect(rootOnly.nrNs(child)).toBe(0); // a child namespace cannot see its ancestors' processes
  });

  it('set_tid asks for exact numbers: EEXIST when taken, EINVAL out of range or without a PID 1 (clone3(2), alloc_pid)', () => {
    const ns = new PidNamespace(0, null, 32768);
    // "Also fail if a PID != 1 is requested and no PID 1 exists."
    expect(allocPid(ns, [1000])).toEqual({ error: 'EINVAL' });
    alloc(ns);
    expect(allocPid(ns, [1])).toEqual({ error: 'EEXIST' });
    ns.childReaper = {} as never; // a PID 1 now exists
    expect((allocPid(ns, [1000]) as Pid).nr()).toBe(1000);
    expect(allocPid(ns, [40000])).toEqual({ error: 'EINVAL' });
  });
});

describe('pid numbers through the simulated kernel', () => {
  it('pidone is PID 1 of its own namespace; its children are numbered there and in the root namespace', () => {
    const { sim } = harness();
    sim.defineProgram('app', [{ pause: true }]);
    const { pid } = sim.spawn(spawnReq('app'));
    expect(sim.self()).toEqual({ pid: 1, ppid: 0, pgid: 1, sid: 1 });
    expect(pid).toBe(2);
    const info = sim.process(sim.pidOf('app')!)!;
    expect(info.nsPids).toEqual([info.pid, 2]);
    expect(info.vpid).toBe(2);
  });

  it('fork fails with EAGAIN when pid_max is reached', () => {
    const { sim } = harness({ mode: 'subreaper', pidMax: 6 });
    sim.defineProgram('app', [{ pause: true }]);
    // init 1, sh 2, pidone 3: three numbers left below pid_max 6.
    sim.spawn(spawnReq('app'));
    sim.spawn(spawnReq('app'));
    let error: unknown;
    try {
      sim.spawn(spawnReq('app'));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(KernelError);
    expect(error).toMatchObject({ code: 'EAGAIN', syscall: 'fork' });
  });

  it('a reaped pid is not reused while it still names a process group (__change_pid keeps it)', () => {
    const { sim } = harness({ mode: 'subreaper', pidMax: 9 });
    // leader forks a member of its group and exits; the member keeps pgid = leader's pid.
    sim.defineProgram('leader', [{ fork: [{ pause: true }], as: 'member' }, { exit: 0 }]);
    const { pid: leader } = sim.spawn(spawnReq('leader'));
    sim.run();
    expect(sim.process('member')!.pgid).toBe(leader);
    sim.defineProgram('x', [{ pause: true }]);
    const more: number[] = [];
    for (;;) {
      try {
        more.push(sim.spawn(spawnReq('x')).pid);
      } catch {
        break;
      }
    }
    expect(more).not.toContain(leader);
  });
});
