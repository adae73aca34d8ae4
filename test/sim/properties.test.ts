/**
 * Invariants of the model under random sequences of forks, exits, signals, waits,
 * sessions, subreapers and nested namespaces (fast-check):
 * - every process but the root init has exactly one parent, which lists it once;
 * - no pid number is used twice at one namespace level, and each idr maps back;
 * - zombies: a zombie is reparented only because its parent died, never twice for the
 *   same death, and never after it was reaped; with pidone as the only subreaper (the
 *   container case) a zombie is never reparented twice at all;
 * - after a namespace init's death its namespace holds nothing but the init.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { eventToJson, SimKernel, type Step } from '../../src/kernel/sim/index.js';
import type { World } from '../../src/kernel/sim/world.js';

const SIGNALS = ['SIGTERM', 'SIGKILL', 'SIGSTOP', 'SIGCONT', 'SIGHUP', 'SIGTSTP', 'SIGUSR1', 'SIGCHLD'] as const;

const PROGRAMS: Record<string, Step[]> = {
  sleeper: [{ sleep: 30 }, { exit: 1 }],
  pauser: [{ pause: true }],
  forker: [{ fork: 'sleeper' }, { fork: 'pauser' }, { sleep: 5 }, { exit: 0 }],
  trapper: [{ on: 'SIGTERM' }, { on: 'SIGHUP', do: 'exit', code: 3 }, { pause: true }],
  daemonizer: [{ doubleFork: 'pauser' }, { exit: 0 }],
  reaper: [{ on: 'SIGCHLD', do: 'reap' }, { fork: 'forker' }, { pause: true }],
  nsinit: [{ fork: 'forker' }, { fork: 'pauser' }, { pause: true }],
  threaded: [{ thread: [{ sleep: 10 }, { threadExit: 0 }] }, { threadExit: 2 }],
  stopper: [{ setsid: true }, { fork: 'pauser' }, { kill: 'child', signal: 'SIGSTOP' }, { sleep: 15 }, { exit: 0 }],
};
const SUBREAPER_PROGRAMS: Record<string, Step[]> = {
  subreaper: [{ subreaper: true }, { fork: 'daemonizer' }, { fork: 'forker' }, { sleep: 20 }, { exit: 0 }],
};

type Action =
  | { kind: 'fork'; who: number; program: string; newNs: boolean }
  | { kind: 'exit'; who: number; code: number }
  | { kind: 'signal'; who: number; signal: (typeof SIGNALS)[number] }
  | { kind: 'advance'; ms: number }
  | { kind: 'killPidone' };

function actions(programNames: string[]): fc.Arbitrary<Action[]> {
  return fc.array(
    fc.oneof(
      { weight: 4, arbitrary: fc.record({ kind: fc.constant('fork' as const), who: fc.nat(), program: fc.constantFrom(...programNames), newNs: fc.boolean() }) },
      { weight: 2, arbitrary: fc.record({ kind: fc.constant('exit' as const), who: fc.nat(), code: fc.integer({ min: 0, max: 3 }) }) },
      { weight: 3, arbitrary: fc.record({ kind: fc.constant('signal' as const), who: fc.nat(), signal: fc.constantFrom(...SIGNALS) }) },
      { weight: 2, arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 1, max: 40 }) }) },
      { weight: 1, arbitrary: fc.constant({ kind: 'killPidone' as const }) },
    ),
    { maxLength: 40 },
  );
}

/** Build a world from `acts`; returns the sim (after letting everything finish). */
function play(acts: readonly Action[], programs: Record<string, Step[]>, check: (sim: SimKernel) => void): SimKernel {
  const sim = new SimKernel({ autoRun: false, pidMax: 400, programs });
  sim.onSignal(() => {
    try {
      sim.reap();
    } catch {
      // pidone may be dying
    }
  });
  const live = (): number[] => sim.ps().filter((p) => p.state === 'running' || p.state === 'stopped').map((p) => p.pid);
  for (const a of acts) {
    const pids = live().filter((pid) => pid !== 1); // never the root init
    const pick = (n: number): number | undefined => pids[n % Math.max(1, pids.length)];
    try {
      if (a.kind === 'fork') {
        const parent = pick(a.who);
        if (parent !== undefined) sim.spawnProcess({ parent, program: a.program, newPidNs: a.newNs });
      } else if (a.kind === 'exit') {
        const who = pick(a.who);
        if (who !== undefined && who !== 2) sim.exitProcess(who, a.code);
      } else if (a.kind === 'signal') {
        const who = pick(a.who);
        if (who !== undefined) sim.signal(who, a.signal);
      } else if (a.kind === 'advance') {
        sim.advance(a.ms);
      } else if (sim.pidoneStatus === null) {
        sim.exitProcess('pidone', 0);
      }
    } catch (e) {
      // Forks into a dead namespace (ENOMEM) or from a dying process are expected failures.
      if (!(e instanceof Error) || !/ENOMEM|EAGAIN|cannot exit|EINVAL/.test(e.message)) throw e;
    }
    sim.run();
    check(sim);
  }
  sim.runUntilIdle(sim.now() + 1000);
  check(sim);
  return sim;
}

/** A cheap assertion for the hot loops (expect() in them makes the run slow). */
function ok(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`invariant broken: ${message}`);
}

function checkStructure(world: World): void {
  const procs = [...world.procs];
  const parentsOf = new Map<object, number>();
  for (const p of procs) {
    for (const c of p.children) parentsOf.set(c, (parentsOf.get(c) ?? 0) + 1);
  }
  for (const p of procs) {
    const who = `${p.name} (${p.tgid.nr()})`;
    if (p === world.rootNs.childReaper) {
      ok(p.parent === null, 'the root init has no parent');
      continue;
    }
    // Exactly one parent, which is in the table and lists the child exactly once.
    ok(p.parent !== null && world.procs.has(p.parent), `${who} has a live parent`);
    ok(parentsOf.get(p) === 1, `${who} is in exactly one children list`);
    ok(p.parent.children.filter((c) => c === p).length === 1, `${who} is listed once by its parent`);
    // State consistency: live processes have threads, zombies none.
    if (p.state === 'zombie' || p.state === 'exiting') ok(p.threads.length === 0, `${who} ${p.state} has no threads`);
    else ok(p.threads.length > 0, `${who} ${p.state} has threads`);
  }
  // No pid number used twice at one level: every thread's pid, per level, is unique and
  // the namespace's idr maps the number back to that very struct pid.
  const seen = new Map<object, Set<number>>();
  for (const p of procs) {
    for (const t of [p.leader, ...p.threads.filter((t) => t !== p.leader)]) {
      for (const u of t.pid.numbers) {
        const used = seen.get(u.ns) ?? new Set<number>();
        ok(!used.has(u.nr), `pid ${u.nr} used twice in namespace ${u.ns.id}`);
        used.add(u.nr);
        seen.set(u.ns, used);
        ok(u.ns.idr.get(u.nr) === t.pid, `idr of namespace ${u.ns.id} maps ${u.nr} back`);
      }
    }
  }
}

function checkZombieReparenting(sim: SimKernel, strict: boolean): void {
  const zombieSince = new Map<number, number>();
  const exitedAt = new Map<number, number>();
  const reparents = new Map<number, string[]>();
  for (const e of sim.events) {
    if (e.event === 'zombie') zombieSince.set(e.pid, e.seq);
    if (e.event === 'exit') exitedAt.set(e.pid, e.seq);
    if (e.event === 'reaped' || e.event === 'autoreaped') zombieSince.delete(e.pid);
    if (e.event === 'fork') {
      zombieSince.delete(e.pid);
      reparents.delete(e.pid);
    }
    if (e.event === 'reparented' && zombieSince.has(e.pid)) {
      const from = Number(e.details['from']);
      // The old parent died: it has an exit event.
      expect(exitedAt.has(from)).toBe(true);
      const list = reparents.get(e.pid) ?? [];
      expect(list).not.toContain(`${from}`);
      list.push(`${from}`);
      reparents.set(e.pid, list);
      if (strict) expect(list).toHaveLength(1);
    }
  }
}

function checkDeadNamespacesEmpty(world: World): void {
  for (const p of world.procs) {
    const ns = p.ns;
    if (ns.childReaper !== p || p.state !== 'zombie') continue;
    // The init is a zombie: zap_pid_ns_processes has finished; only its own pid is left.
    expect([...ns.idr.values()].every((pid) => pid === p.tgid || pid.pgrpOf.has(p) || pid.sessionOf.has(p))).toBe(true);
    expect(ns.adding).toBe(false);
  }
  // And for namespaces whose init is gone altogether, nothing is left at all.
  for (const p of world.procs) {
    for (const u of p.tgid.numbers) {
      const reaper = u.ns.childReaper;
      if (reaper !== null && reaper.state === 'dead') throw new Error(`process ${p.tgid.nr()} lives in dead namespace ${u.ns.id}`);
    }
  }
}

describe('model invariants (property tests)', () => {
  it('every process has one parent, no pid is used twice at a level, dead namespaces are empty', () => {
    fc.assert(
      fc.property(actions(Object.keys(PROGRAMS)), (acts) => {
        play(acts, PROGRAMS, (sim) => {
          checkStructure(sim.world);
          checkDeadNamespacesEmpty(sim.world);
        });
      }),
      { numRuns: 150 },
    );
  });

  it('zombies are never reparented twice when pidone is the only subreaper', () => {
    fc.assert(
      fc.property(actions(Object.keys(PROGRAMS)), (acts) => {
        const sim = play(acts, PROGRAMS, () => {});
        checkZombieReparenting(sim, true);
      }),
      { numRuns: 150 },
    );
  });

  it('with scripted subreapers, a zombie is reparented only when its parent dies, once per death', () => {
    const programs = { ...PROGRAMS, ...SUBREAPER_PROGRAMS };
    fc.assert(
      fc.property(actions(Object.keys(programs)), (acts) => {
        const sim = play(acts, programs, (s) => checkStructure(s.world));
        checkZombieReparenting(sim, false);
      }),
      { numRuns: 100 },
    );
  });

  it('the same actions give the same trace', () => {
    fc.assert(
      fc.property(actions(Object.keys(PROGRAMS)), (acts) => {
        const a = play(acts, PROGRAMS, () => {}).events.map(eventToJson);
        const b = play(acts, PROGRAMS, () => {}).events.map(eventToJson);
        expect(b).toEqual(a);
      }),
      { numRuns: 30 },
    );
  });
});
