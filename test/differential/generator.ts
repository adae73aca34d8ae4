/**
 * Random valid scenarios (fast-check), for the differential check.
 *
 * Every generated scenario is deterministic on Linux: steps run one at a time and
 * the runner waits for quiescence after each. What would still depend on a race, or
 * on something the simulator does not model (docs/differential.md), is kept out by
 * construction:
 * - a blocking wait names one child (wait -1 blocking could return whichever of two
 *   children that die in the same step happens to be first);
 * - threads do not fork, unshare, exec or wait, and no pdeathsig in a scenario with
 *   threads. The simulator now models parent links, pid_ns_for_children and
 *   pdeath_signal per thread (the corpus checks them), but the generator has not
 *   been taught these shapes yet: several threads dying at once (exit_group, exec)
 *   hand over their children in an order that is a race on Linux, and the generator
 *   would have to keep out exactly that;
 * - threads do not kill, and no process kills one of its own threads by tid: the
 *   signal is taken by another thread of the sender's process while the sender runs
 *   on, so whether the sender still answers (before a stop or a death) is a race;
 * - no SIGCHLD ignored in a scenario with threads: whether a thread group that dies
 *   with several threads is autoreaped depends on the kernel version (6.18 leaves it
 *   a zombie; docs/differential.md).
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
  | 'exec';

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
  ['pdeathsig', 1],
  ['exec', 1],
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
 * is what the check is for.
 */
export async function realize(intents: readonly Intent[]): Promise<Step[]> {
  const player = new Player(new SimSide());
  await player.begin();
  const steps: Step[] = [];
  let nextProc = 2;
  let nextThread = 1;
  const usesThreads = intents.some((i) => i.kind === 'thread');
  /** Thread -> the process that created it. */
  const owner = new Map<string, string>();
  for (const i of intents) {
    const runnable = player.runnable();
    if (runnable.length === 0) break;
    const procs = runnable.filter((n) => !player.isThread(n));
    const known = player.known();
    const actor = pick(runnable, i.who);
    const proc = procs.length > 0 ? pick(procs, i.who) : null;
    /** A pid argument: an actor (dead ones too), minus an actor (its group), or a number. */
    const ref = (n: number, group: boolean): string => {
      const r = n % (known.length + 4);
      if (r < known.length) return `${group && n % 2 === 0 ? '-' : ''}${known[r]}`;
      return pick(['-1', '0', String(2 + (n % 5)), '99'], r - known.length);
    };
    let line: string | null = null;
    switch (i.kind) {
      case 'fork':
        if (proc !== null) line = `${proc} fork p${nextProc++}${i.flag && i.x % 3 === 0 ? ' newns' : ''}`;
        break;
      case 'thread':
        if (proc !== null && nextThread <= 3) {
          owner.set(`t${nextThread}`, proc);
          line = `${proc} thread t${nextThread++}`;
        }
        break;
      case 'exit':
        // p1's death ends the scenario: keep it rare.
        if (actor !== 'p1' || i.x % 5 === 0) line = `${actor} exit ${i.code}`;
        break;
      case 'threadexit':
        if (actor !== 'p1' || i.x % 3 === 0) line = `${actor} threadexit ${i.code}`;
        break;
      case 'setsid':
        line = `${actor} setsid`;
        break;
      case 'setpgid':
        line = `${actor} setpgid ${i.x % 3 === 0 ? '0' : ref(i.x, false)} ${i.y % 3 === 0 ? '0' : ref(i.y, false)}`;
        break;
      case 'kill': {
        // kill(tid) of one of the sender's own threads hands the signal to that thread
        // (complete_signal() tries the named task first) while the sender runs on.
        const target = ref(i.x, true);
        if (proc !== null && owner.get(target.replace('-', '')) !== proc) line = `${proc} kill ${target} ${pick(SIGNALS, i.sig)}`;
        break;
      }
      case 'trap':
      case 'ignore':
      case 'default': {
        const signal = pick(TRAPPABLE, i.sig);
        if (!(i.kind === 'ignore' && signal === 'CHLD' && usesThreads)) line = `${actor} ${i.kind} ${signal}`;
        break;
      }
      case 'wait': {
        const r = i.x % 4;
        const target = r === 0 ? '-1' : r === 1 ? '0' : r === 2 ? ref(i.y, false) : ref(i.y, true);
        if (proc !== null) line = `${proc} wait ${target} nohang`;
        break;
      }
      case 'waitblock':
        if (proc !== null) line = `${proc} wait ${pick(known.filter((n) => !player.isThread(n)), i.x)}`;
        break;
      case 'subreaper':
        line = `${actor} subreaper${i.flag && i.x % 4 === 0 ? ' off' : ''}`;
        break;
      case 'unshare':
        if (proc !== null) line = `${proc} unshare`;
        break;
      case 'report':
        line = `${actor} report`;
        break;
      case 'pdeathsig':
        if (proc !== null && !usesThreads) line = `${proc} pdeathsig ${pick(TRAPPABLE, i.sig)}`;
        break;
      case 'exec':
        if (proc !== null) line = `${proc} exec`;
        break;
    }
    if (line === null) continue;
    const step = parseStep(line, 'generated');
    steps.push(step);
    await player.step(step);
  }
  await player.finish();
  return steps;
}

/** 5 to 15 intents; a few may give no step. */
export const intents: fc.Arbitrary<Intent[]> = fc.array(intent, { minLength: 5, maxLength: 15 });
