/**
 * Random valid scenarios (fast-check), for the differential check.
 *
 * Every generated scenario is deterministic on Linux: steps run one at a time and
 * the runner waits for quiescence after each. What would still depend on a race, or
 * on something the simulator does not model (docs/differential.md), is kept out:
 * - by construction: one blocking wait per process at a time (two threads waiting at
 *   once race for the same child); threads do not kill, and no process kills one of its
 *   own threads by tid (the signal is taken by another thread of the sender's process
 *   while the sender runs on, so whether the sender still answers is a race); threads
 *   do not unshare or exec; no SIGCHLD ignored in a scenario with threads (whether a
 *   thread group that dies with several threads is autoreaped depends on the kernel
 *   version: 6.18 leaves it a zombie);
 * - after the fact, on the simulator (SimSide.racy): a step in which two children of a
 *   process blocked in wait die (which one a wait on -1, 0 or -pgid returns, or whether
 *   it saw one before the other, depends on timing), or in which a multi-threaded
 *   process whose children are on several threads' lists, or have a parent-death
 *   signal, dies or execs (its threads hand their children over concurrently), or in
 *   which a parent that autoreaps (SIGCHLD ignored, SA_NOCLDWAIT) dies with one of its
 *   children (autoreaped if the child dies first, a zombie of the new parent
 *   otherwise: found by seed 14142). Such a step's intent is dropped and the scenario
 *   chosen again without it;
 * - a scenario whose end would leave p1 stuck for good in zap_pid_ns_processes (a
 *   namespace init held by a group id of its namespace that nobody can move it out of:
 *   SimSide.teardownStuck) is chosen again without its setpgid intents.
 * Steps are given to actors that can run, as the simulator sees it while the scenario
 * is being chosen.
 */
import fc from 'fast-check';
import { Player } from './player.js';
import { parseStep, type Step } from './script.js';
import { SimSide } from './sim-side.js';

const SIGNALS = ['TERM', 'KILL', 'STOP', 'CONT', 'HUP', 'INT', 'USR1', 'USR2', 'CHLD', 'TSTP', 'TTIN', 'QUIT', 'RTMIN+1', '0'] as const;
const TRAPPABLE = ['TERM', 'HUP', 'INT', 'USR1', 'USR2', 'CHLD', 'CONT', 'TSTP', 'TTIN', 'QUIT', 'RTMIN+1'] as const;

type Kind =
  | 'fork'
  | 'thread'
  | 'exit'
  | 'threadexit'
  | 'setsid'
  | 'setpgid'
  | 'kill'
  | 'trap'
  | 'ignore'
  | 'default'
  | 'wait'
  | 'waitblock'
  | 'subreaper'
  | 'unshare'
  | 'report'
  | 'pdeathsig'
  | 'exec'
  | 'waitany'
  | 'ignorechld'
  | 'nsgroup';

/** Weights: forks and kills drive everything else. */
const KINDS: ReadonlyArray<[Kind, number]> = [
  ['fork', 7],
  ['thread', 1],
  ['exit', 3],
  ['threadexit', 1],
  ['setsid', 2],
  ['setpgid', 2],
  ['kill', 6],
  ['trap', 3],
  ['ignore', 1],
  ['default', 1],
  ['wait', 3],
  ['waitblock', 1],
  ['subreaper', 2],
  ['unshare', 1],
  ['report', 2],
  ['pdeathsig', 2],
  ['exec', 1],
  ['waitany', 2],
  ['ignorechld', 1],
  ['nsgroup', 1],
];

export interface Intent {
  readonly kind: Kind;
  readonly who: number;
  readonly x: number;
  readonly y: number;
  readonly sig: number;
  readonly flag: boolean;
  readonly code: number;
}

const intent: fc.Arbitrary<Intent> = fc.record({
  kind: fc.oneof(...KINDS.map(([k, w]) => ({ weight: w, arbitrary: fc.constant(k) }))),
  who: fc.nat({ max: 63 }),
  x: fc.nat({ max: 63 }),
  y: fc.nat({ max: 63 }),
  sig: fc.nat({ max: 63 }),
  flag: fc.boolean(),
  code: fc.integer({ min: 0, max: 3 }),
});

const pick = <T>(xs: readonly T[], n: number): T => xs[n % xs.length]!;

/**
 * Turn intents into steps, playing them on the simulator as they are chosen so that
 * each step goes to an actor that can run (alive, not stopped, not blocked). The
 * real kernel may still disagree about who can run: then the records differ, which
 * is what the check is for. A step that would be a race on Linux drops its intent and
 * the scenario is chosen again (see the header).
 */
export async function realize(intents: readonly Intent[]): Promise<Step[]> {
  let chosen = [...intents];
  for (;;) {
    const r = await realizeOnce(chosen);
    if (r.kind === 'ok') return r.steps;
    if (r.kind === 'racy') chosen = chosen.filter((_, i) => i !== r.intent);
    else if (chosen.some((i) => i.kind === 'setpgid' || i.kind === 'nsgroup')) chosen = chosen.filter((i) => i.kind !== 'setpgid' && i.kind !== 'nsgroup');
    else chosen = chosen.slice(0, -1);
  }
}

type Realized = { kind: 'ok'; steps: Step[] } | { kind: 'racy'; intent: number } | { kind: 'stuck' };

async function realizeOnce(intents: readonly Intent[]): Promise<Realized> {
  const side = new SimSide();
  const player = new Player(side);
  await player.begin();
  const steps: Step[] = [];
  let nextProc = 2;
  let nextThread = 1;
  const usesThreads = intents.some((i) => i.kind === 'thread');
  /** Thread -> the process that created it. */
  const owner = new Map<string, string>();
  const procOf = (name: string) => {
    const idx = player.indexOf(name);
    return idx === undefined ? null : side.procOf(idx);
  };
  for (const [n, i] of intents.entries()) {
    const runnable = player.runnable();
    if (runnable.length === 0) break;
    const procs = runnable.filter((a) => !player.isThread(a));
    const known = player.known();
    const actor = pick(runnable, i.who);
    const proc = procs.length > 0 ? pick(procs, i.who) : null;
    /** A pid argument: an actor (dead ones too), minus an actor (its group), or a number. */
    const ref = (x: number, group: boolean): string => {
      const r = x % (known.length + 4);
      if (r < known.length) return `${group && x % 2 === 0 ? '-' : ''}${known[r]}`;
      return pick(['-1', '0', String(2 + (x % 5)), '99'], r - known.length);
    };
    /** No second blocking wait in a process that has one. */
    const mayBlock = (a: string): boolean => {
      const p = procOf(a);
      return p !== null && !side.hasBlockedWait(p);
    };
    let lines: string[] = [];
    switch (i.kind) {
      case 'fork':
        lines = [`${actor} fork p${nextProc++}${i.flag && i.x % 3 === 0 ? ' newns' : ''}`];
        break;
      case 'thread':
        if (proc !== null && nextThread <= 3) {
          owner.set(`t${nextThread}`, proc);
          lines = [`${proc} thread t${nextThread++}`];
        }
        break;
      case 'exit':
        // p1's death ends the scenario: keep it rare.
        if (actor !== 'p1' || i.x % 5 === 0) lines = [`${actor} exit ${i.code}`];
        break;
      case 'threadexit':
        if (actor !== 'p1' || i.x % 3 === 0) lines = [`${actor} threadexit ${i.code}`];
        break;
      case 'setsid':
        lines = [`${actor} setsid`];
        break;
      case 'setpgid':
        lines = [`${actor} setpgid ${i.x % 3 === 0 ? '0' : ref(i.x, false)} ${i.y % 3 === 0 ? '0' : ref(i.y, false)}`];
        break;
      case 'kill': {
        // kill(tid) of one of the sender's own threads hands the signal to that thread
        // (complete_signal() tries the named task first) while the sender runs on.
        const target = ref(i.x, true);
        const sender = proc === null ? null : procOf(proc);
        const ownByNumber = sender !== null && /^[0-9]+$/.test(target) && side.isOwnThread(sender, Number(target));
        if (proc !== null && owner.get(target.replace('-', '')) !== proc && !ownByNumber) lines = [`${proc} kill ${target} ${pick(SIGNALS, i.sig)}`];
        break;
      }
      case 'trap':
      case 'ignore':
      case 'default': {
        const signal = pick(TRAPPABLE, i.sig);
        if (!(i.kind === 'ignore' && signal === 'CHLD' && usesThreads)) lines = [`${actor} ${i.kind} ${signal}`];
        break;
      }
      case 'ignorechld':
        // SIGCHLD ignored, or back to the default, around blocking waits.
        if (proc !== null && !usesThreads) lines = [`${proc} ${i.flag ? 'ignore' : 'default'} CHLD`];
        break;
      case 'wait': {
        const r = i.x % 4;
        const target = r === 0 ? '-1' : r === 1 ? '0' : r === 2 ? ref(i.y, false) : ref(i.y, true);
        lines = [`${actor} wait ${target} nohang`];
        break;
      }
      case 'waitblock':
        if (mayBlock(actor)) lines = [`${actor} wait ${pick(known.filter((a) => !player.isThread(a)), i.x)}`];
        break;
      case 'waitany': {
        // A blocking wait on -1, 0 or a group (-pgid of an actor).
        const r = i.x % 3;
        const target = r === 0 ? '-1' : r === 1 ? '0' : `-${pick(known.filter((a) => !player.isThread(a)), i.y)}`;
        if (mayBlock(actor)) lines = [`${actor} wait ${target}`];
        break;
      }
      case 'nsgroup': {
        // A namespace init joins a process group led by another process of its
        // namespace; when the init dies (its own exit, or a kill from its parent), that
        // group id holds its namespace (zap_pid_ns_processes) until its parent moves it
        // to a group of its own, which the scenario then does.
        if (proc === null) break;
        const init = `p${nextProc++}`;
        const leader = `p${nextProc++}`;
        lines = [`${proc} fork ${init} newns`, `${init} fork ${leader}`, `${leader} setpgid 0 0`, `${init} setpgid 0 ${leader}`];
        const death = i.x % 3;
        if (death === 1) lines.push(`${init} exit ${i.code}`, `${proc} setpgid ${init} ${init}`);
        if (death === 2) lines.push(`${proc} kill ${init} KILL`, `${proc} setpgid ${init} ${init}`);
        break;
      }
      case 'subreaper':
        lines = [`${actor} subreaper${i.flag && i.x % 4 === 0 ? ' off' : ''}`];
        break;
      case 'unshare':
        if (proc !== null) lines = [`${proc} unshare`];
        break;
      case 'report':
        lines = [`${actor} report`];
        break;
      case 'pdeathsig':
        lines = [`${actor} pdeathsig ${pick(TRAPPABLE, i.sig)}`];
        break;
      case 'exec':
        if (proc !== null) lines = [`${proc} exec`];
        break;
    }
    for (const line of lines) {
      const step = parseStep(line, 'generated');
      const before = side.riskBefore();
      steps.push(step);
      await player.step(step);
      if (side.racy(before)) {
        await player.finish();
        return { kind: 'racy', intent: n };
      }
    }
  }
  const stuck = side.teardownStuck();
  await player.finish();
  return stuck ? { kind: 'stuck' } : { kind: 'ok', steps };
}

/** 5 to 15 intents; a few may give no step. */
export const intents: fc.Arbitrary<Intent[]> = fc.array(intent, { minLength: 5, maxLength: 15 });
