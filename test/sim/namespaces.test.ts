/**
 * The death of a namespace init (kernel/pid_namespace.c zap_pid_ns_processes,
 * pid_namespaces(7)) and forks into a dead namespace (fork(2) ENOMEM).
 */
import { describe, expect, it } from 'vitest';
import { errorsOf, eventsOf, harness, spawnReq } from './helpers.js';

describe('namespace init death', () => {
  const programs = {
    top: [{ fork: 'nsinit', newPidNs: true }, { pause: true }],
    nsinit: [{ fork: 'worker' }, { fork: 'worker' }, { doubleFork: 'worker' }, { pause: true }],
    worker: [{ on: 'SIGTERM' }, { pause: true }],
  };

  it('SIGKILLs everything in the namespace, collects it, then becomes a zombie for its parent', () => {
    const { sim } = harness({ programs: programs as never });
    sim.spawn(spawnReq('top'));
    sim.run();
    const nsinit = sim.process('nsinit')!;
    const workers = sim.ps().filter((p) => p.name === 'worker').map((p) => p.pid);
    expect(workers).toHaveLength(3);
    sim.kill(sim.vpidOf(nsinit.pid), 'SIGKILL');
    sim.run();
    expect(eventsOf(sim, 'ns-zap', nsinit.pid)).toHaveLength(1);
    for (const w of workers) {
      expect(eventsOf(sim, 'signal', w, { signal: 'SIGKILL', from: 0 })).toHaveLength(1);
      expect(sim.process(w)).toBeNull();
    }
    const ns = [...sim.world.procs].find((p) => p.tgid.nr() === nsinit.pid)!.ns;
    // The namespace holds only its init's pid until the parent reaps it.
    expect([...ns.idr.keys()]).toEqual([1]);
    expect(sim.process(nsinit.pid)!.state).toBe('zombie');
  });

  it('forks into a dead namespace fail with ENOMEM (unshare, fork, init exits, fork again)', () => {
    const { sim } = harness();
    sim.defineProgram('app', [{ unshare: 'pid' }, { fork: [{ exit: 0 }], exec: false }, { wait: -1 }, { fork: [{ exit: 0 }], exec: false }, { pause: true }]);
    sim.spawn(spawnReq('app'));
    sim.run();
    expect(errorsOf(sim, sim.pidOf('app')!)).toEqual(['fork:ENOMEM']);
  });

  it('the first process of a new namespace is its PID 1; a second unshare(CLONE_NEWPID) is EINVAL', () => {
    const { sim } = harness();
    sim.defineProgram('app', [{ unshare: 'pid' }, { unshare: 'pid' }, { fork: [{ report: 'first' }, { pause: true }], exec: false }, { pause: true }]);
    sim.spawn(spawnReq('app'));
    sim.run();
    expect(errorsOf(sim, sim.pidOf('app')!)).toEqual(['unshare:EINVAL']);
    const [first] = eventsOf(sim, 'report', undefined, { label: 'first' });
    expect(first!.details).toMatchObject({ getpid: 1, getppid: 0 });
  });

  it('pidone exiting as PID 1 takes its whole namespace with it; the runtime reaps pidone', () => {
    const { sim } = harness();
    sim.defineProgram('daemon', [{ on: 'SIGTERM' }, { pause: true }]);
    sim.defineProgram('app', [{ on: 'SIGTERM' }, { doubleFork: 'daemon' }, { pause: true }]);
    sim.spawn(spawnReq('app'));
    sim.run();
    expect(sim.ps().filter((p) => p.name === 'daemon')).toHaveLength(1);
    sim.exitProcess('pidone', 0);
    sim.run();
    expect(sim.ps().map((p) => p.name)).toEqual(['init', 'runtime']);
    expect(eventsOf(sim, 'reaped', sim.pidonePid, { by: sim.pidOf('runtime') })).toHaveLength(1);
    expect(sim.pidoneStatus).toEqual({ kind: 'exited', code: 0 });
  });

  it('nested namespaces die inside out: killing the outer init kills the inner init, which kills its own', () => {
    const { sim } = harness();
    sim.defineProgram('outer', [{ fork: 'inner', newPidNs: true }, { pause: true }]);
    sim.defineProgram('inner', [{ fork: 'leaf' }, { pause: true }]);
    sim.defineProgram('leaf', [{ pause: true }]);
    sim.defineProgram('top', [{ fork: 'outer', newPidNs: true }, { pause: true }]);
    sim.spawn(spawnReq('top'));
    sim.run();
    expect(sim.process('leaf')!.nsPids).toHaveLength(4); // root, pidone's, outer's, inner's
    sim.kill(sim.vpidOf('outer'), 'SIGKILL');
    sim.run();
    // outer stays a zombie: its parent top never waits.
    expect(sim.ps().map((p) => `${p.name}:${p.state}`)).toEqual(['init:running', 'runtime:running', 'pidone:running', 'top:running', 'outer:zombie']);
    expect(eventsOf(sim, 'ns-dead')).toHaveLength(2);
  });

  it('spawn with namespaces.pid clones the child into a new namespace as its PID 1 (clone(CLONE_NEWPID))', () => {
    const { sim } = harness({ mode: 'subreaper' });
    sim.defineProgram('app', [{ report: 'ids' }, { fork: [{ report: 'kid' }, { pause: true }], exec: false }, { pause: true }]);
    const { pid } = sim.spawn({ ...spawnReq('app'), namespaces: { pid: true, mount: true, user: false } });
    sim.run();
    expect(sim.trace.find('report', { label: 'ids' })[0]!.details).toMatchObject({ getpid: 1, getppid: 0 });
    expect(sim.trace.find('report', { label: 'kid' })[0]!.details).toMatchObject({ getpid: 2, getppid: 1 });
    expect(sim.process(pid)!.nsInit).toBe(true);
  });
});
