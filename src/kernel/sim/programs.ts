/**
 * Programs: scripted behaviours the simulated processes run, as plain data (JSON in a
 * scenario file, object literals in a test). A program is a list of steps run in
 * order by its main thread; running off the end is returning from main(), i.e.
 * exit_group(0) (a non-main thread running off the end calls exit(0), as NPTL's
 * start_thread does).
 *
 * A process reference (ProcRef) in a step is a number, meant exactly as the
 * corresponding system call takes it from the caller's namespace (0, -1, -pgid
 * included), or a string: 'self', 'parent', 'child' (the last child this process
 * forked), or the name of a process (the oldest live process with that name that the
 * caller can see).
 */
import type { Errno } from '../kernel.js';
import type { SignalName } from '../../signals.js';

export type ProcRef = number | string;

/** A program by name, or inline steps. */
export type ProgramRef = string | readonly Step[];

/** What a scripted signal handler does (sigaction with a handler). */
export type HandlerAction = 'record' | 'exit' | 'reap';

export type Step =
  /** fork(2) (clone with CLONE_NEWPID if newPidNs); the child runs `fork`, as if exec'd unless exec: false. */
  | {
      readonly fork: ProgramRef;
      readonly as?: string;
      readonly exec?: boolean;
      readonly newPidNs?: boolean;
      readonly cloneParent?: boolean;
      readonly setTid?: readonly number[];
      /** clone(CLONE_VFORK): the calling thread waits until the child execs or exits. */
      readonly vfork?: boolean;
    }
  /** exit_group(2): the whole process. */
  | { readonly exit: number }
  /** exit(2): this thread only. */
  | { readonly threadExit: number }
  /** nanosleep on the virtual clock (a caught signal runs its handler, then the sleep goes on). */
  | { readonly sleep: number }
  /** Block until killed: `for (;;) pause();`. Handlers still run. */
  | { readonly pause: true }
  /** sigaction(sig, handler): on delivery record it, exit_group(code), reap (waitpid(-1, WNOHANG) loop), or run steps. */
  | { readonly on: SignalName; readonly do?: HandlerAction; readonly code?: number; readonly run?: readonly Step[]; readonly noCldWait?: boolean; readonly noCldStop?: boolean; readonly restart?: boolean }
  /** signal(sig, SIG_IGN). */
  | { readonly ignore: SignalName }
  /** signal(sig, SIG_DFL). */
  | { readonly default: SignalName; readonly noCldWait?: boolean }
  /** setsid(2). */
  | { readonly setsid: true }
  /** setpgid(2). */
  | { readonly setpgid: { readonly pid: ProcRef; readonly pgid: ProcRef } }
  /** kill(2); with group: true the target names a process whose group is signalled (killpg). */
  | { readonly kill: ProcRef; readonly signal: SignalName | 'SIG0'; readonly group?: boolean }
  /** tgkill(2): the signal goes to thread `tid` of process `tgid` alone. */
  | { readonly tgkill: { readonly tgid: ProcRef; readonly tid: number }; readonly signal: SignalName | 'SIG0' }
  /** waitpid(2) for a child (-1 any, 0 own group, -N group N, or a ref; group: true waits for the ref's group); blocks unless nohang. */
  | {
      readonly wait: ProcRef;
      readonly nohang?: boolean;
      readonly group?: boolean;
      /** WUNTRACED (WSTOPPED) and WCONTINUED: also report a child that stopped or continued. */
      readonly untraced?: boolean;
      readonly continued?: boolean;
      /** waitid(idtype, wait, ...) instead of waitpid: `exited` is WEXITED, `nowait` WNOWAIT. */
      readonly idtype?: 'all' | 'pid' | 'pgid';
      readonly exited?: boolean;
      readonly nowait?: boolean;
    }
  /** clone(CLONE_THREAD): a new thread running `thread`. */
  | { readonly thread: ProgramRef }
  /** unshare(CLONE_NEWPID): children forked after this are in a new PID namespace. */
  | { readonly unshare: 'pid' }
  /** setns(pidfd_open(ref), CLONE_NEWPID): this thread's next children go to ref's PID namespace. */
  | { readonly setns: ProcRef }
  /** execve(2) another program. */
  | { readonly exec: string }
  /** prctl(PR_SET_CHILD_SUBREAPER). */
  | { readonly subreaper: boolean }
  /** prctl(PR_SET_PDEATHSIG). */
  | { readonly pdeathsig: SignalName }
  /** Daemonise: fork a child that calls setsid, forks `doubleFork` and exits; wait for that child. */
  | { readonly doubleFork: ProgramRef; readonly as?: string }
  /** Run `steps` `repeat` times. */
  | { readonly repeat: number; readonly steps: readonly Step[] }
  /** Record getpid/gettid/getppid/getpgrp/getsid as this process sees them, with a label. */
  | { readonly report: string }
  /** A free-form trace note. */
  | { readonly note: string };

export interface ProgramDef {
  readonly name: string;
  readonly steps: readonly Step[];
  /** execve(2) of this program fails with this errno (EACCES, ENOEXEC): for 126 exits. */
  readonly execError?: Errno;
}

/** The name of a step: its first key that is a step keyword. */
export const STEP_KINDS = [
  'fork',
  'exit',
  'threadExit',
  'sleep',
  'pause',
  'on',
  'ignore',
  'default',
  'setsid',
  'setpgid',
  'kill',
  'tgkill',
  'wait',
  'thread',
  'unshare',
  'setns',
  'exec',
  'subreaper',
  'pdeathsig',
  'doubleFork',
  'repeat',
  'report',
  'note',
] as const;

export type StepKind = (typeof STEP_KINDS)[number];

export function stepKind(step: Step): StepKind {
  for (const k of STEP_KINDS) if (k in step) return k;
  throw new TypeError(`not a step: ${JSON.stringify(step)}`);
}

/** The program name to give a process that runs `ref` (inline programs keep the forking process's name, as fork keeps comm). */
export function programName(ref: ProgramRef, parentName: string): string {
  return typeof ref === 'string' ? ref : parentName;
}

/**
 * The double-fork a daemon does (daemon(3) without the chdir and fd work): a child
 * that starts a new session, forks the daemon and exits, so the daemon is orphaned at
 * once and reparented; the parent waits for the middle child.
 */
export function expandDoubleFork(daemon: ProgramRef, as?: string): readonly Step[] {
  const inner: Step = as === undefined ? { fork: daemon } : { fork: daemon, as };
  return [{ fork: [{ setsid: true }, inner, { exit: 0 }], exec: false }, { wait: 'child' }];
}
