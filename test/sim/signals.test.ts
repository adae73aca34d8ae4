/**
 * Signal delivery (kernel/signal.c, signal(7), kill(2), pid_namespaces(7)).
 */
import { describe, expect, it } from 'vitest';
import { KernelError } from '../../src/kernel/kernel.js';
import type { SignalName } from '../../src/signals.js';
import { errorsOf, eventsOf, harness, spawnReq } from './helpers.js';

describe('default actions (signal(7))', () => {
  it.each<[SignalName, string, string]>([
    ['SIGTERM', 'term', 'SIGTERM'],
    ['SIGHUP', 'term', 'SIGHUP'],
    ['SIGRTMIN+3', 'term', 'SIGRTMIN+3'],
    ['SIGQUIT', 'core', 'SIGQUIT'],
    ['SIGABRT', 'core', 'SIGABRT'],
  ])('%s: %s', (signal, _action, expected) => {
    const { sim, reaped } = harness();
    sim.defineProgram('app', [{ pause: true }]);
    const { pid } = sim.spawn(spawnReq('app'));
    sim.kill(pid, signal);
    sim.run();
    expect(reaped).toEqual([{ pid, status: expected }]);
  });

  it('core: WCOREDUMP only when core dumps are enabled (RLIMIT_CORE)', () => {
    for (const coreDumps of [false, true]) {
      const { sim } = harness({ reap: false, coreDumps });
      sim.defineProgram('app', [{ pause: true }]);
      const { pid } = sim.spawn(spawnReq('app'));
      sim.kill(pid, 'SIGSEGV');
      sim.run();
      expect(sim.reap().statuses).toEqual([{ pid, kind: 'signaled', signal: 'SIGSEGV', core: coreDumps }]);
    }
  });

  it('stop and cont: SIGTSTP stops, SIGCONT continues, the parent hears SIGCHLD for both', () => {
    const { sim, batches } = harness();
    sim.defineProgram('app', [{ pause: true }]);
    const { pid } = sim.spawn(spawnReq('app'));
    sim.kill(pid, 'SIGTSTP');
    sim.run();
    expect(sim.process('app')!.state).toBe('stopped');
    sim.kill(pid, 'SIGCONT');
    sim.run();
    expect(sim.process('app')!.state).toBe('running');
    expect(batches.filter((b) => b.some((x) => x.signal === 'SIGCHLD'))).toHaveLength(2);
  });

  it('ignore: SIGCHLD, SIGWINCH and SIGURG do nothing by default; SIGCONT on a running process does nothing', () => {
    const { sim } = harness();
    sim.defineProgram('app', [{ pause: true }]);
    const { pid } = sim.spawn(spawnReq('app'));
    for (const s of ['SIGCHLD', 'SIGWINCH', 'SIGURG', 'SIGCONT'] as const) sim.kill(pid, s);
    sim.run();
    expect(sim.process('app')!.state).toBe('running');
    expect(eventsOf(sim, 'ignored')).toHaveLength(4);
  });

  it('a stopped process acts on other signals only after SIGCONT; SIGKILL kills it at once', () => {
    const { sim, reaped } = harness();
    sim.defineProgram('app', [{ pause: true }]);
    const { pid } = sim.spawn(spawnReq('app'));
    sim.kill(pid, 'SIGSTOP');
    sim.run();
    // Fatal by default, but a stopped task wants nothing but SIGKILL (wants_signal()), so
    // complete_signal() does not start the group exit: SIGUSR1 waits for SIGCONT.
    // Found by the differential check (test/differential/corpus.ts, stopped-fatal-pending).
    sim.kill(pid, 'SIGUSR1');
    sim.run();
    expect(reaped).toEqual([]);
    expect(sim.process(sim.pidOf('app')!)!.state).toBe('stopped');
    sim.kill(pid, 'SIGCONT');
    sim.run();
    expect(reaped).toEqual([{ pid, status: 'SIGUSR1' }]);
    const other = sim.spawn(spawnReq('app')).pid;
    sim.kill(other, 'SIGSTOP');
    sim.run();
    sim.kill(other, 'SIGKILL');
    sim.run();
    expect(reaped).toContainEqual({ pid: other, status: 'SIGKILL' });
  });

  it('handlers: caught signals run the script\'s handler; SIG_IGN drops them; SIGKILL cannot be caught (sigaction EINVAL)', () => {
    const { sim } = harness();
    sim.defineProgram('app', [{ on: 'SIGUSR1' }, { ignore: 'SIGTERM' }, { on: 'SIGKILL' }, { on: 'SIGINT', do: 'exit', code: 42 }, { pause: true }]);
    const { pid } = sim.spawn(spawnReq('app'));
    sim.run();
    sim.kill(pid, 'SIGUSR1');
    sim.kill(pid, 'SIGTERM');
    sim.run();
    const root = sim.pidOf('app')!;
    expect(eventsOf(sim, 'caught', root).map((e) => e.details['signal'])).toEqual(['SIGUSR1']);
    expect(eventsOf(sim, 'ignored', root, { signal: 'SIGTERM', reason: 'SIG_IGN' })).toHaveLength(1);
    expect(errorsOf(sim, root)).toEqual(['sigaction:EINVAL']);
    sim.kill(pid, 'SIGINT');
    sim.run();
    expect(eventsOf(sim, 'exit', root)[0]!.details['status']).toBe('exit 42');
  });

  it('a handler with steps runs them and returns to the interrupted sleep', () => {
    const { sim } = harness();
    sim.defineProgram('app', [{ on: 'SIGUSR1', run: [{ note: 'in handler' }] }, { sleep: 100 }, { exit: 5 }]);
    const { pid } = sim.spawn(spawnReq('app'));
    sim.advance(10);
    sim.kill(pid, 'SIGUSR1');
    sim.advance(10);
    expect(eventsOf(sim, 'note')).toHaveLength(1);
    expect(sim.process('app')!.state).toBe('running');
    sim.advance(100);
    expect(eventsOf(sim, 'exit')[0]!.time).toBe(100);
  });
});

describe('signals and namespace inits (pid_namespaces(7), sig_task_ignored)', () => {
  const nested = {
    top: [{ fork: 'nsinit', newPidNs: true }, { pause: true }],
    nsinit: [{ fork: 'inner' }, { pause: true }],
    inner: [{ sleep: 1 }, { kill: 1, signal: 'SIGTERM' }, { kill: 1, signal: 'SIGKILL' }, { pause: true }],
  };

  it('a namespace init ignores signals it has no handler for, and SIGKILL, from inside its namespace', () => {
    const { sim } = harness({ programs: nested as never });
    sim.spawn(spawnReq('top'));
    sim.advance(5);
    const nsinit = sim.pidOf('nsinit')!;
    expect(sim.process(nsinit)!.state).toBe('running');
    const reasons = eventsOf(sim, 'ignored', nsinit).map((e) => `${e.details['signal']}:${e.details['reason']}`);
    expect(reasons).toEqual(['SIGTERM:namespace init has no handler', 'SIGKILL:namespace init has no handler']);
  });

  it('from an ancestor namespace, SIGKILL kills the namespace init but SIGTERM without a handler is still ignored', () => {
    const { sim } = harness({ programs: nested as never });
    sim.spawn(spawnReq('top'));
    sim.advance(5);
    const nsinit = sim.pidOf('nsinit')!;
    const v = sim.vpidOf(nsinit);
    sim.kill(v, 'SIGTERM');
    sim.run();
    expect(sim.process(nsinit)!.state).toBe('running');
    sim.kill(v, 'SIGKILL');
    sim.run();
    expect(eventsOf(sim, 'exit', nsinit)[0]!.details['status']).toBe('SIGKILL');
  });

  it('pidone as PID 1 receives the signals it handles; SIGKILL from inside is ignored, from outside it kills', () => {
    const { sim, batches } = harness();
    sim.defineProgram('app', [{ kill: 1, signal: 'SIGUSR1' }, { kill: 1, signal: 'SIGKILL' }, { pause: true }]);
    sim.spawn(spawnReq('app'));
    sim.run();
    expect(batches.flat().map((b) => b.signal)).toEqual(['SIGUSR1']);
    expect(eventsOf(sim, 'ignored', sim.pidonePid, { signal: 'SIGKILL' })).toHaveLength(1);
    sim.signal('pidone', 'SIGKILL'); // from the root init, an ancestor namespace
    sim.run();
    expect(sim.pidoneStatus).toEqual({ kind: 'signaled', signal: 'SIGKILL', core: false });
  });

  it('the root init never gets SIGKILL', () => {
    const { sim } = harness();
    sim.killAs('runtime', 1, 'SIGKILL');
    sim.run();
    expect(sim.process(1)!.state).toBe('running');
  });
});

describe('kill(2)', () => {
  it('kill(-1) reaches every process the sender can see except itself and init', () => {
    const { sim } = harness();
    sim.defineProgram('victim', [{ pause: true }]);
    sim.defineProgram('killer', [{ sleep: 1 }, { kill: -1, signal: 'SIGTERM' }, { pause: true }]);
    sim.spawn(spawnReq('victim'));
    sim.spawn(spawnReq('victim'));
    sim.spawn(spawnReq('killer'));
    sim.advance(5);
    const hit = eventsOf(sim, 'signal', undefined, { signal: 'SIGTERM' }).map((e) => e.pid);
    expect(hit).not.toContain(sim.pidonePid);
    expect(hit).not.toContain(sim.pidOf('killer'));
    expect(hit).toHaveLength(2);
    expect(sim.ps().filter((p) => p.name === 'victim')).toEqual([]);
  });

  it('kill(-1) from outside a namespace reaches the host\'s processes too (sparing only the root init and the sender)', () => {
    const { sim, batches } = harness({ mode: 'subreaper' });
    sim.defineProgram('killer', [{ kill: -1, signal: 'SIGUSR2' }, { pause: true }]);
    sim.spawn(spawnReq('killer'));
    sim.run();
    const hit = eventsOf(sim, 'signal', undefined, { signal: 'SIGUSR2' }).map((e) => e.pid);
    expect(hit).toEqual([2, sim.pidonePid]); // sh and pidone; not init (1), not the killer
    expect(batches.flat().map((b) => b.signal)).toContain('SIGUSR2');
  });

  it('kill(-pgid) signals the whole group; a missing pid or group is ESRCH; an unknown signal EINVAL; SIG0 only checks', () => {
    const { sim, reaped } = harness();
    sim.defineProgram('leader', [{ fork: [{ pause: true }], exec: false }, { pause: true }]);
    const { pid, pgid } = sim.spawn(spawnReq('leader'));
    sim.run();
    sim.kill(pid, 'SIG0');
    expect(() => sim.kill(4242, 'SIGTERM')).toThrow(expect.objectContaining({ code: 'ESRCH', syscall: 'kill', pid: 4242 }));
    expect(() => sim.kill(-4242, 'SIGTERM')).toThrow(KernelError);
    // @ts-expect-error: not a SignalName; the simulator answers JavaScript callers as kill(2) does.
    expect(() => sim.kill(pid, 'SIGFOO')).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    sim.kill(-pgid, 'SIGTERM');
    sim.run();
    expect(reaped.map((r) => r.status)).toEqual(['SIGTERM', 'SIGTERM']);
  });
});

describe('signals to pidone (batches)', () => {
  it('standard signals coalesce while pending, real-time ones queue with counts; fromSelf counts its own', () => {
    const { sim, batches } = harness();
    for (let i = 0; i < 3; i++) sim.signal('pidone', 'SIGUSR1');
    for (let i = 0; i < 3; i++) sim.signal('pidone', 'SIGRTMIN+1');
    sim.kill(1, 'SIGHUP'); // pidone to itself
    sim.run();
    expect(batches).toEqual([
      [
        { signal: 'SIGHUP', count: 1, fromSelf: 1 },
        { signal: 'SIGUSR1', count: 1, fromSelf: 0 },
        { signal: 'SIGRTMIN+1', count: 3, fromSelf: 0 },
      ],
    ]);
  });

  it('signals sent before onSignal arrive in the first batch (none is lost)', () => {
    const { SimKernel } = { SimKernel: harness().sim.constructor as typeof import('../../src/kernel/sim/index.js').SimKernel };
    const sim = new SimKernel({ autoRun: false });
    sim.signal('pidone', 'SIGTERM');
    sim.run();
    const got: string[] = [];
    sim.onSignal((b) => got.push(...b.map((x) => x.signal)));
    sim.run();
    expect(got).toEqual(['SIGTERM']);
  });

  it('SIGCHLD reaches pidone when a child exits (do_notify_parent)', () => {
    const { sim, batches } = harness({ reap: false });
    sim.defineProgram('app', [{ exit: 0 }]);
    sim.spawn(spawnReq('app'));
    sim.run();
    expect(batches).toEqual([[{ signal: 'SIGCHLD', count: 1, fromSelf: 0 }]]);
  });
});
