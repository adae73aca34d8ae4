/**
 * Signal names and numbers: which signals exist, what each is called and numbered, and
 * how a user may spell one. What pidone does with a signal is elsewhere
 * (src/signal-policy.ts and src/init.ts), as is what the simulated kernel does with one
 * a process has no handler for (src/kernel/sim/default-actions.ts).
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

/**
 * The standard signals 1-31 by the name signal(7) gives each, in number order (the
 * aliases SIGIOT and SIGPOLL are accepted when parsing and stand for SIGABRT and SIGIO).
 */
export const STANDARD_SIGNAL_NAMES = [
  'SIGHUP',
  'SIGINT',
  'SIGQUIT',
  'SIGILL',
  'SIGTRAP',
  'SIGABRT',
  'SIGBUS',
  'SIGFPE',
  'SIGKILL',
  'SIGUSR1',
  'SIGSEGV',
  'SIGUSR2',
  'SIGPIPE',
  'SIGALRM',
  'SIGTERM',
  'SIGSTKFLT',
  'SIGCHLD',
  'SIGCONT',
  'SIGSTOP',
  'SIGTSTP',
  'SIGTTIN',
  'SIGTTOU',
  'SIGURG',
  'SIGXCPU',
  'SIGXFSZ',
  'SIGVTALRM',
  'SIGPROF',
  'SIGWINCH',
  'SIGIO',
  'SIGPWR',
  'SIGSYS',
] as const;

/** Other names os.constants.signals lists for a standard signal, and the name they stand for. */
const ALIASES: ReadonlyMap<string, StandardSignalName> = new Map([
  ['SIGIOT', 'SIGABRT'],
  ['SIGPOLL', 'SIGIO'],
]);

export type StandardSignalName = (typeof STANDARD_SIGNAL_NAMES)[number];

/**
 * The real-time signals as kill -l names them: counted up from SIGRTMIN in the lower
 * half, down from SIGRTMAX in the upper, as bash prints them (signal(7) documents
 * the "SIGRTMIN+n" form). 31 signals: SIGRTMIN, SIGRTMIN+1 .. SIGRTMIN+15, SIGRTMAX-14 ..
 * SIGRTMAX-1, SIGRTMAX.
 */
const ABOVE_RTMIN = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15] as const;
const BELOW_RTMAX = [14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1] as const;

export type RealTimeSignalName =
  | 'SIGRTMIN'
  | `SIGRTMIN+${(typeof ABOVE_RTMIN)[number]}`
  | `SIGRTMAX-${(typeof BELOW_RTMAX)[number]}`
  | 'SIGRTMAX';

/** In ascending order: SIGRTMIN + i is REAL_TIME_SIGNALS[i]. */
const REAL_TIME_SIGNALS: readonly RealTimeSignalName[] = [
  'SIGRTMIN',
  ...ABOVE_RTMIN.map((k) => `SIGRTMIN+${k}` as const),
  ...BELOW_RTMAX.map((k) => `SIGRTMAX-${k}` as const),
  'SIGRTMAX',
];

/**
 * glibc's two reserved real-time signals (nptl(7)), which have no name of their own
 * (bash: "Unknown signal 32"); pidone calls them by number.
 */
const GLIBC_RESERVED_SIGNALS = [
  ['SIG32', 32],
  ['SIG33', 33],
] as const;

export type GlibcReservedSignalName = (typeof GLIBC_RESERVED_SIGNALS)[number][0];

/** Every signal 1-64 by the one name pidone gives it: what signalName() returns. */
export type SignalName = StandardSignalName | RealTimeSignalName | GlibcReservedSignalName;

/** glibc's SIGRTMIN/SIGRTMAX on Linux (signal(7): "SIGRTMIN+n"). */
export const SIGRTMIN = 34;
export const SIGRTMAX = 64;

/** glibc's two reserved real-time signals, below its SIGRTMIN (nptl(7)). */
export const GLIBC_RESERVED: readonly number[] = GLIBC_RESERVED_SIGNALS.map(([, n]) => n);

/**
 * The signals a terminal's job control sends to stop a process (signal(7): default
 * action "Stop", raised by the tty driver): ^Z, and a background read or write.
 * Unlike SIGSTOP they can be caught, and a process in an orphaned process group
 * discards them instead of stopping.
 */
export const JOB_CONTROL_STOP_SIGNALS: readonly SignalName[] = ['SIGTSTP', 'SIGTTIN', 'SIGTTOU'];

/** The number of every name, SIG32 and SIG33 included. */
const BY_NAME = new Map<string, number>();
/** The one name of every number 1-64: the canonical names, SIG32 and SIG33. */
const BY_NUMBER = new Map<number, SignalName>();

for (const name of STANDARD_SIGNAL_NAMES) {
  const num = constants.signals[name];
  BY_NAME.set(name, num);
  BY_NUMBER.set(num, name);
}
REAL_TIME_SIGNALS.forEach((name, i) => {
  BY_NAME.set(name, SIGRTMIN + i);
  BY_NUMBER.set(SIGRTMIN + i, name);
});
for (const [name, n] of GLIBC_RESERVED_SIGNALS) {
  BY_NAME.set(name, n);
  BY_NUMBER.set(n, name);
}

/**
 * Is `text` exactly one of pidone's signal names, as signalName() spells it? For text
 * pidone wrote itself (a log line, a record); what a user writes goes to parseSignal().
 */
export function isSignalName(text: string): text is SignalName {
  return BY_NAME.has(text);
}

/** `text` as a SignalName, for text that must be one (see isSignalName); throws if it is not. */
export function asSignalName(text: string): SignalName {
  if (isSignalName(text)) return text;
  throw new TypeError(`unknown signal name ${text}`);
}

/** The number of a signal (the aliases SIGIOT and SIGPOLL are parseSignal()'s to resolve). */
export function signalNumber(name: SignalName): number {
  const n = BY_NAME.get(name);
  if (n !== undefined) return n;
  throw new TypeError(`unknown signal name ${name}`);
}

/**
 * The name of signal `num` (1-64): the one kill -l prints, or SIG32 and SIG33 for
 * glibc's two reserved ones. Throws for any other number: Linux has no signal above
 * 64 (_NSIG), so a status or signal from the kernel is always nameable.
 */
export function signalName(num: number): SignalName {
  const name = BY_NUMBER.get(num);
  if (name !== undefined) return name;
  throw new TypeError(`unknown signal number ${num}`);
}

/** A real-time signal (queued, each occurrence delivered): 32-64, glibc's two included. */
export function isRealTime(name: SignalName): boolean {
  const n = BY_NAME.get(name);
  return n !== undefined && n >= GLIBC_RESERVED[0]! && n <= SIGRTMAX;
}

/**
 * Every signal number with a name of its own (kill -l), ascending: 1-31 and 34-64,
 * without glibc's reserved 32 and 33.
 */
export function allSignalNumbers(): number[] {
  return [...BY_NUMBER.keys()].filter((n) => !GLIBC_RESERVED.includes(n)).sort((a, b) => a - b);
}

/**
 * Parse a signal as a user writes it: 'TERM', 'SIGTERM', 'sigterm', '15', 'RTMIN+3',
 * 'SIGRTMAX-1', an alias ('IOT'). Returns the signal's one name, or null when it is
 * not a signal a user can ask for (glibc's 32 and 33 included: kill -l lists neither).
 */
export function parseSignal(text: string): SignalName | null {
  const t = text.trim();
  let n: number | undefined;
  if (/^\d+$/.test(t)) {
    n = Number(t);
  } else {
    let upper = t.toUpperCase();
    if (!upper.startsWith('SIG')) upper = `SIG${upper}`;
    const rt = /^SIGRT(MIN|MAX)(?:([+-])(\d+))?$/.exec(upper);
    if (rt) {
      const base = rt[1] === 'MIN' ? SIGRTMIN : SIGRTMAX;
      const off = rt[3] === undefined ? 0 : Number(rt[3]) * (rt[2] === '+' ? 1 : -1);
      n = base + off;
      if (n < SIGRTMIN || n > SIGRTMAX) return null;
    } else {
      n = BY_NAME.get(ALIASES.get(upper) ?? upper);
    }
  }
  if (n === undefined || GLIBC_RESERVED.includes(n)) return null;
  return BY_NUMBER.get(n) ?? null;
}
