/**
 * Signal names and numbers, and the table that decides what pidone does with each.
 *
 * In TypeScript a signal is a name ('SIGTERM', 'SIGRTMIN+2'); numbers appear only at
 * the addon boundary and on the command line. The numbers are Linux's (signal(7)):
 * standard ones from os.constants.signals, real-time ones SIGRTMIN..SIGRTMAX as glibc
 * exposes them (34..64: glibc keeps 32 and 33 for its own thread cancellation and
 * setxid, see nptl(7)). 32 and 33 have no name (bash reports "Unknown signal 32"), but
 * another runtime's process can still die of one: signalName() calls them SIG32 and
 * SIG33, so that every status and signal can be logged and turned into an exit code.
 */
import { constants } from 'node:os';

export type SignalName = string;

/** glibc's SIGRTMIN/SIGRTMAX on Linux (signal(7): "SIGRTMIN+n"). */
export const SIGRTMIN = 34;
export const SIGRTMAX = 64;

const BY_NAME = new Map<string, number>();
const BY_NUMBER = new Map<number, SignalName>();

for (const [name, num] of Object.entries(constants.signals)) {
  // os.constants lists aliases (SIGIOT = SIGABRT, SIGPOLL = SIGIO); the first name
  // listed for a number is the one signal(7) uses.
  BY_NAME.set(name, num);
  if (!BY_NUMBER.has(num)) BY_NUMBER.set(num, name);
}
// SIGPOLL and SIGIOT alias; make sure the canonical names win in the reverse table.
if (BY_NAME.has('SIGABRT')) BY_NUMBER.set(BY_NAME.get('SIGABRT')!, 'SIGABRT');
if (BY_NAME.has('SIGIO')) BY_NUMBER.set(BY_NAME.get('SIGIO')!, 'SIGIO');
for (let n = SIGRTMIN; n <= SIGRTMAX; n++) {
  const name = rtName(n);
  BY_NAME.set(name, n);
  BY_NUMBER.set(n, name);
}

/** The name `kill -l` prints for a real-time signal: SIGRTMIN+n in the lower half, SIGRTMAX-n above. */
function rtName(n: number): SignalName {
  if (n === SIGRTMIN) return 'SIGRTMIN';
  if (n === SIGRTMAX) return 'SIGRTMAX';
  const mid = SIGRTMIN + Math.floor((SIGRTMAX - SIGRTMIN) / 2);
  return n <= mid ? `SIGRTMIN+${n - SIGRTMIN}` : `SIGRTMAX-${SIGRTMAX - n}`;
}

/**
 * The name of a number signal(7) gives none (32 and 33, which glibc reserves): SIG32.
 * It is accepted back by signalNumber(), not by parseSignal(), which keeps to what
 * kill -l lists.
 */
function numberedName(num: number): SignalName {
  return `SIG${num}`;
}

export function signalNumber(name: SignalName): number {
  const n = BY_NAME.get(name);
  if (n !== undefined) return n;
  const numbered = /^SIG([1-9]\d*)$/.exec(name);
  if (numbered) return Number(numbered[1]);
  throw new TypeError(`unknown signal name ${name}`);
}

/**
 * The name of signal `num`: the one kill -l prints, or SIG32 and SIG33 for glibc's two
 * reserved ones (and SIGn for any other number without a name). Never throws for a
 * positive integer: a status or signal must always be nameable where it is logged or
 * turned into an exit code.
 */
export function signalName(num: number): SignalName {
  const name = BY_NUMBER.get(num);
  if (name !== undefined) return name;
  if (Number.isInteger(num) && num >= 1) return numberedName(num);
  throw new TypeError(`unknown signal number ${num}`);
}

/** glibc's two reserved real-time signals, below its SIGRTMIN (nptl(7)). */
export const GLIBC_RESERVED: readonly number[] = [32, 33];

/** A real-time signal (queued, each occurrence delivered): 32-64, glibc's two included. */
export function isRealTime(name: SignalName): boolean {
  let n: number;
  try {
    n = signalNumber(name);
  } catch {
    return false;
  }
  return n >= GLIBC_RESERVED[0]! && n <= SIGRTMAX;
}

/**
 * Every signal number with a name of its own (kill -l), ascending: 1-31 and 34-64,
 * without glibc's reserved 32 and 33.
 */
export function allSignalNumbers(): number[] {
  return [...BY_NUMBER.keys()].sort((a, b) => a - b);
}

export const ACCEPTED_SIGNAL_FORMS = 'a name (TERM, SIGTERM, RTMIN+3) or a number 1-64';

/**
 * Parse a signal as a user writes it: 'TERM', 'SIGTERM', 'sigterm', '15', 'RTMIN+3',
 * 'SIGRTMAX-1'. Returns null when it is not a signal.
 */
export function parseSignal(text: string): SignalName | null {
  const t = text.trim();
  if (/^\d+$/.test(t)) {
    const n = Number(t);
    return BY_NUMBER.get(n) ?? null;
  }
  let upper = t.toUpperCase();
  if (!upper.startsWith('SIG')) upper = `SIG${upper}`;
  const rt = /^SIGRT(MIN|MAX)(?:([+-])(\d+))?$/.exec(upper);
  if (rt) {
    const base = rt[1] === 'MIN' ? SIGRTMIN : SIGRTMAX;
    const off = rt[3] === undefined ? 0 : Number(rt[3]) * (rt[2] === '+' ? 1 : -1);
    const n = base + off;
    return n >= SIGRTMIN && n <= SIGRTMAX ? rtName(n) : null;
  }
  return BY_NAME.has(upper) ? (BY_NUMBER.get(BY_NAME.get(upper)!) ?? null) : null;
}

/**
 * A close name for an unknown one, for "did you mean" hints (one edit away, or the
 * same letters without the SIG prefix).
 */
export function suggestSignal(text: string): SignalName | null {
  const upper = text.trim().toUpperCase().replace(/^SIG/, '');
  let best: SignalName | null = null;
  // Short names are too easily one or two edits from an unrelated one (FOO -> IO).
  let bestDistance = upper.length >= 4 ? 3 : 2;
  for (const name of BY_NAME.keys()) {
    if (name.startsWith('SIGRT')) continue;
    const d = editDistance(upper, name.slice(3));
    if (d < bestDistance) {
      bestDistance = d;
      best = BY_NUMBER.get(BY_NAME.get(name)!) ?? name;
    }
  }
  return best;
}

/** Optimal string alignment distance: edits, with a swap of two neighbours as one. */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * Signals pidone never installs a handler for: SIGKILL and SIGSTOP, which cannot be
 * caught (signal(7)).
 *
 * glibc's reserved 32 and 33 are caught too, though glibc's sigaction() refuses them:
 * the addon installs them with the rt_sigaction system call (native/signals.cc says
 * why that is safe for pidone).
 *
 * The fault signals SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP and SIGSYS are caught:
 * sent ones are forwarded, and the addon's handler tells a real fault of pidone's own
 * (si_code > 0) from a sent one and lets the former kill pidone, chaining to the
 * handler Node had installed before (V8's WebAssembly traps use SIGSEGV); see
 * native/signals.cc.
 */
export const NEVER_CAUGHT: ReadonlySet<SignalName> = new Set(['SIGKILL', 'SIGSTOP']);

/** The signals pidone catches: every one of 1-64 except NEVER_CAUGHT. */
export function caughtSignals(): SignalName[] {
  return [...allSignalNumbers(), ...GLIBC_RESERVED]
    .sort((a, b) => a - b)
    .map((n) => signalName(n))
    .filter((name) => !NEVER_CAUGHT.has(name));
}

/**
 * A rewrite table (--rewrite FROM:TO): the signal to forward instead, or null to drop
 * it. Signals not in the table are forwarded as they are.
 */
export type RewriteTable = ReadonlyMap<SignalName, SignalName | null>;

export function rewriteSignal(table: RewriteTable, signal: SignalName): SignalName | null {
  return table.has(signal) ? table.get(signal)! : signal;
}

/** Default action of each signal (signal(7)): what happens to a process with SIG_DFL. */
export type DefaultAction = 'term' | 'core' | 'stop' | 'cont' | 'ignore';

const DEFAULT_ACTIONS: Record<string, DefaultAction> = {
  SIGHUP: 'term',
  SIGINT: 'term',
  SIGQUIT: 'core',
  SIGILL: 'core',
  SIGTRAP: 'core',
  SIGABRT: 'core',
  SIGBUS: 'core',
  SIGFPE: 'core',
  SIGKILL: 'term',
  SIGUSR1: 'term',
  SIGSEGV: 'core',
  SIGUSR2: 'term',
  SIGPIPE: 'term',
  SIGALRM: 'term',
  SIGTERM: 'term',
  SIGSTKFLT: 'term',
  SIGCHLD: 'ignore',
  SIGCONT: 'cont',
  SIGSTOP: 'stop',
  SIGTSTP: 'stop',
  SIGTTIN: 'stop',
  SIGTTOU: 'stop',
  SIGURG: 'ignore',
  SIGXCPU: 'core',
  SIGXFSZ: 'core',
  SIGVTALRM: 'term',
  SIGPROF: 'term',
  SIGWINCH: 'ignore',
  SIGIO: 'term',
  SIGPWR: 'term',
  SIGSYS: 'core',
};

export function defaultAction(signal: SignalName): DefaultAction {
  // Real-time signals terminate by default (signal(7), "Real-time signals").
  return DEFAULT_ACTIONS[signal] ?? 'term';
}
