/**
 * The scenario language of the differential check (docs/differential.md).
 *
 * A scenario is a list of global steps run one at a time. Each step names the actor
 * that runs it: a process (its main thread) or a thread, by a logical name. p1 exists
 * from the start: the first process of a fresh PID namespace. Every other actor is
 * named by the fork or thread step that creates it.
 *
 *   p1 fork p2            fork(2); "fork p2 newns" is clone(CLONE_NEWPID), "fork p2 parent"
 *                         clone(CLONE_PARENT) (the child's parent is the caller's parent);
 *                         "fork p2 tid 500" is clone3 with set_tid = {500} (the number in the
 *                         innermost namespace: the caller's, or the new one with newns);
 *                         "fork p2 vfork" adds CLONE_VFORK: the caller waits (its step
 *                         stays pending) until p2 execs or its first thread exits
 *   p2 exit 3             exit_group(3)
 *   t1 threadexit 4       exit(4) of this thread only (the main thread too)
 *   p2 setsid             setsid(2)
 *   p2 setpgid 0 p3       setpgid(2); a name is its pid as the actor sees it
 *   p2 tgkill p3 t1 USR1  tgkill(2): the signal goes to thread t1 of process p3 alone
 *   p2 kill -p3 TERM      kill(2); -name is minus that pid (a group), numbers as written; 0 = SIG0
 *   p2 trap USR1          a handler that records the signal ("caught" in the record), with
 *                         SA_RESTART; "trap USR1 norestart" without (a wait it interrupts: EINTR);
 *                         "trap CHLD nocldstop" adds SA_NOCLDSTOP
 *   p2 ignore CHLD        SIG_IGN;  "default CHLD" is SIG_DFL
 *   p1 wait -1 nohang     waitpid(2), WNOHANG with "nohang"; without it, it may block;
 *                         "untraced" adds WUNTRACED, "continued" WCONTINUED
 *   p1 waitid pgid p2 stopped nowait
 *                         waitid(2): all | pid ID | pgid ID, then any of exited (WEXITED),
 *                         stopped (WSTOPPED), continued (WCONTINUED), nohang, nowait (WNOWAIT)
 *   p1 subreaper          prctl(PR_SET_CHILD_SUBREAPER, 1); "subreaper off" clears it
 *   p1 unshare            unshare(CLONE_NEWPID): the next children are in a new namespace
 *   p2 setns p3           setns(pidfd_open(p3), CLONE_NEWPID): p2's thread's next children are
 *                         in p3's namespace
 *   p2 thread t1          pthread_create: t1 is a new actor
 *   p2 report             getpid, gettid, getppid, getpgrp, getsid
 *   p2 pdeathsig TERM     prctl(PR_SET_PDEATHSIG)
 *   p2 exec               execve(2) of the same puppet: handlers reset, other threads gone
 *   p1 nocldwait          sigaction(SIGCHLD, SIG_DFL with SA_NOCLDWAIT): children are autoreaped;
 *                         "nocldwait trap" is a recording handler with SA_NOCLDWAIT
 *   p2 chldlog            the siginfo of each SIGCHLD p2's handler caught since the last
 *                         chldlog (si_code, si_pid as p2 sees it, si_status), in order; the
 *                         record is per process, empty in a new child and after exec
 *   p1 lastpid 500        write /proc/sys/kernel/ns_last_pid in the actor's namespace;
 *                         "lastpid max-1" is pid_max - 1 (the next fork wraps);
 *                         "lastpid max+1" is out of range (EINVAL)
 *
 * Lines starting with '#' and blank lines are ignored.
 */
import { parseSignal, signalNumber, type SignalName } from '../../src/signals.js';

/** The opcodes, shared with test/fixtures/puppet.c. */
export const OP = {
  fork: 1,
  exit: 2,
  threadexit: 3,
  setsid: 4,
  setpgid: 5,
  kill: 6,
  trap: 7,
  ignore: 8,
  default: 9,
  wait: 10,
  subreaper: 11,
  unshare: 12,
  thread: 13,
  report: 14,
  pdeathsig: 15,
  exec: 16,
  lastpid: 17,
  nocldwait: 18,
  tgkill: 19,
  setns: 20,
  waitid: 21,
  chldlog: 22,
} as const;

export type OpName = keyof typeof OP;

/** waitpid options as the puppet reads them. */
export const WAIT_BITS = { nohang: 1, untraced: 2, continued: 4 } as const;
/** waitid options as the puppet reads them. */
export const WAITID_BITS = { nohang: 1, stopped: 2, continued: 4, exited: 8, nowait: 16 } as const;

/** A pid argument: an actor's pid as the caller sees it (negated for -name), or a number as written. */
export type Ref = { readonly actor: string; readonly negate: boolean } | number;

export interface Step {
  readonly line: string;
  readonly actor: string;
  readonly op: OpName;
  /** fork / thread: the new actor. */
  readonly name?: string;
  /** fork newns, wait nohang, subreaper on, nocldwait trap, trap norestart. */
  readonly flag?: boolean;
  /** fork parent: CLONE_PARENT. */
  readonly cloneParent?: boolean;
  /** fork vfork: CLONE_VFORK. */
  readonly vfork?: boolean;
  /** wait / waitid option bits (see WAIT_BITS, WAITID_BITS); waitid's idtype. */
  readonly bits?: number;
  readonly idtype?: 'all' | 'pid' | 'pgid';
  /** trap ... nocldstop: SA_NOCLDSTOP. */
  readonly noCldStop?: boolean;
  /** fork tid N: clone3 set_tid = {N}. */
  readonly setTid?: number;
  /** setpgid (2), kill and wait (1). */
  readonly refs?: readonly Ref[];
  /** exit / threadexit code; lastpid's number. */
  readonly code?: number;
  /** lastpid max-K: K (max+K: -K). */
  readonly belowMax?: number;
  /** trap, ignore, default, kill, pdeathsig; 'SIG0' for kill's signal 0. */
  readonly signal?: SignalName | 'SIG0';
}

export interface Scenario {
  /** Short id, unique in the corpus. */
  readonly id: string;
  /** The rule of the model (docs/simulator.md, "What is modelled"), or the kernel rule, that it checks. */
  readonly rule: string;
  readonly steps: readonly Step[];
}

export class ScriptError extends Error {
  override readonly name = 'ScriptError';
}

const NAME = /^[pt][0-9]+$/;

function parseRef(word: string, where: string): Ref {
  if (/^-?[0-9]+$/.test(word)) return Number(word);
  const negate = word.startsWith('-');
  const actor = negate ? word.slice(1) : word;
  if (!NAME.test(actor)) throw new ScriptError(`${where}: '${word}' is neither a number nor an actor (p1, t2, -p3)`);
  return { actor, negate };
}

function parseSig(word: string | undefined, where: string, allowZero: boolean): SignalName | 'SIG0' {
  if (word === undefined) throw new ScriptError(`${where}: missing signal`);
  if (allowZero && word === '0') return 'SIG0';
  const s = parseSignal(word);
  if (s === null) throw new ScriptError(`${where}: unknown signal '${word}'`);
  return s;
}

function parseCode(word: string | undefined, where: string): number {
  if (word === undefined || !/^[0-9]+$/.test(word)) throw new ScriptError(`${where}: expected an exit code, got '${word ?? ''}'`);
  return Number(word);
}

export function parseStep(line: string, where = line): Step {
  const words = line.trim().split(/\s+/);
  const [actor, op, ...args] = words;
  if (actor === undefined || !NAME.test(actor)) throw new ScriptError(`${where}: a step starts with its actor (p1, t2)`);
  const base = { line: words.join(' '), actor };
  const arity = (n: number, m = n): void => {
    if (args.length < n || args.length > m) throw new ScriptError(`${where}: '${op}' takes ${n === m ? n : `${n} to ${m}`} argument(s)`);
  };
  switch (op) {
    case 'fork':
    case 'thread': {
      arity(1, op === 'fork' ? 6 : 1);
      const name = args[0]!;
      if (!NAME.test(name)) throw new ScriptError(`${where}: bad actor name '${name}'`);
      const opts = args.slice(1);
      let setTid: number | undefined;
      const t = opts.indexOf('tid');
      if (t >= 0) {
        setTid = parseCode(opts[t + 1], where);
        opts.splice(t, 2);
      }
      for (const o of opts) if (o !== 'newns' && o !== 'parent' && o !== 'vfork') throw new ScriptError(`${where}: expected 'newns', 'parent', 'vfork' or 'tid N', got '${o}'`);
      return {
        ...base,
        op,
        name,
        flag: opts.includes('newns'),
        ...(opts.includes('parent') ? { cloneParent: true } : {}),
        ...(opts.includes('vfork') ? { vfork: true } : {}),
        ...(setTid !== undefined ? { setTid } : {}),
      };
    }
    case 'exit':
    case 'threadexit':
      arity(1);
      return { ...base, op, code: parseCode(args[0], where) };
    case 'lastpid': {
      arity(1);
      const m = /^max([+-])([0-9]+)$/.exec(args[0]!);
      if (m) return { ...base, op, belowMax: (m[1] === '-' ? 1 : -1) * Number(m[2]) };
      return { ...base, op, code: parseCode(args[0], where) };
    }
    case 'setsid':
    case 'unshare':
    case 'report':
    case 'exec':
    case 'chldlog':
      arity(0);
      return { ...base, op };
    case 'setpgid':
      arity(2);
      return { ...base, op, refs: [parseRef(args[0]!, where), parseRef(args[1]!, where)] };
    case 'setns':
      arity(1);
      return { ...base, op, refs: [parseRef(args[0]!, where)] };
    case 'tgkill':
      arity(3);
      return { ...base, op, refs: [parseRef(args[0]!, where), parseRef(args[1]!, where)], signal: parseSig(args[2], where, true) };
    case 'kill':
      arity(2);
      return { ...base, op, refs: [parseRef(args[0]!, where)], signal: parseSig(args[1], where, true) };
    case 'trap': {
      arity(1, 3);
      const opts = args.slice(1);
      for (const o of opts) if (o !== 'norestart' && o !== 'nocldstop') throw new ScriptError(`${where}: expected 'norestart' or 'nocldstop', got '${o}'`);
      return { ...base, op, signal: parseSig(args[0], where, false), flag: opts.includes('norestart'), ...(opts.includes('nocldstop') ? { noCldStop: true } : {}) };
    }
    case 'ignore':
    case 'default':
    case 'pdeathsig':
      arity(1);
      return { ...base, op, signal: parseSig(args[0], where, false) };
    case 'wait': {
      arity(1, 4);
      let bits = 0;
      for (const o of args.slice(1)) {
        const bit = WAIT_BITS[o as keyof typeof WAIT_BITS];
        if (bit === undefined) throw new ScriptError(`${where}: expected 'nohang', 'untraced' or 'continued', got '${o}'`);
        bits |= bit;
      }
      return { ...base, op, refs: [parseRef(args[0]!, where)], flag: (bits & 1) !== 0, bits };
    }
    case 'waitid': {
      arity(1, 7);
      const idtype = args[0];
      if (idtype !== 'all' && idtype !== 'pid' && idtype !== 'pgid') throw new ScriptError(`${where}: expected 'all', 'pid' or 'pgid', got '${idtype ?? ''}'`);
      const rest = args.slice(1);
      const refs = idtype === 'all' ? [] : [parseRef(rest.shift() ?? '', where)];
      let bits = 0;
      for (const o of rest) {
        const bit = WAITID_BITS[o as keyof typeof WAITID_BITS];
        if (bit === undefined) throw new ScriptError(`${where}: expected exited, stopped, continued, nohang or nowait, got '${o}'`);
        bits |= bit;
      }
      return { ...base, op, refs, idtype, bits, flag: (bits & 1) !== 0 };
    }
    case 'nocldwait':
      arity(0, 1);
      if (args[0] !== undefined && args[0] !== 'trap') throw new ScriptError(`${where}: expected 'trap', got '${args[0]}'`);
      return { ...base, op, flag: args[0] === 'trap' };
    case 'subreaper':
      arity(0, 1);
      if (args[0] !== undefined && args[0] !== 'off') throw new ScriptError(`${where}: expected 'off', got '${args[0]}'`);
      return { ...base, op, flag: args[0] !== 'off' };
    default:
      throw new ScriptError(`${where}: unknown step '${op ?? ''}'`);
  }
}

/**
 * Parse a script. Names must be introduced before use (p1 exists from the start), and
 * a fork or thread step must not reuse a name.
 */
export function parseScript(text: string, id = 'script'): Step[] {
  const known = new Set(['p1']);
  const steps: Step[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/#.*/, '').trim();
    if (line === '') return;
    const where = `${id}:${i + 1}`;
    const s = parseStep(line, where);
    if (!known.has(s.actor)) throw new ScriptError(`${where}: actor ${s.actor} is not created before this step`);
    for (const r of s.refs ?? []) {
      if (typeof r !== 'number' && !known.has(r.actor)) throw new ScriptError(`${where}: ${r.actor} is not created before this step`);
    }
    if (s.name !== undefined) {
      if (known.has(s.name)) throw new ScriptError(`${where}: ${s.name} already exists`);
      if ((s.op === 'thread') !== s.name.startsWith('t')) throw new ScriptError(`${where}: processes are p<n>, threads t<n>`);
      known.add(s.name);
    }
    steps.push(s);
  });
  return steps;
}

export function scenario(id: string, rule: string, text: string): Scenario {
  return { id, rule, steps: parseScript(text, id) };
}

/** The numbers a step sends: signal names become numbers (SIG0 is 0). */
export function signalArg(s: SignalName | 'SIG0' | undefined): number {
  return s === undefined || s === 'SIG0' ? 0 : signalNumber(s);
}

/** The text of a scenario, one step per line (what a failure prints for replay). */
export function formatScript(steps: readonly Step[]): string {
  return steps.map((s) => s.line).join('\n');
}
