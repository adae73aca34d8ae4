/**
 * Processes (thread groups) and threads (tasks), and the exit state machine.
 *
 * A Thread is a task_struct: it has its own struct pid (gettid). A Proc is what the
 * kernel keeps in signal_struct and the group leader: the tgid (getpid), the parent,
 * the process group and session, dispositions (sighand_struct), shared pending
 * signals, the subreaper flags, and the exit state.
 *
 * Process states, after gVisor's TaskExitState and the kernel's exit_state:
 *
 *   running <-> stopped          (do_signal_stop / SIGCONT in prepare_signal)
 *   running|stopped -> exiting   (a namespace init waiting in zap_pid_ns_processes)
 *   running|stopped|exiting -> zombie   (exit_notify: EXIT_ZOMBIE, parent notified)
 *   zombie -> dead               (release_task: reaped by wait, or autoreaped)
 *
 * Anything else is a SimBug. Parent links are per thread, as in the kernel: a child's
 * real_parent is the thread that forked it (parentThread), each thread's children list
 * is the process's `children` filtered by that thread (a move appends at the end, as
 * list_splice_tail does), and a thread that exits hands its children to a live sibling
 * (forget_original_parent -> find_alive_thread). pid_ns_for_children and pdeath_signal
 * are per thread too.
 */
import type { SignalName } from '../../signals.js';
import type { ClockTimer } from './clock.js';
import { PendingSignals } from './pending-signals.js';
import type { Pid } from './pid.js';
import type { PidNamespace } from './pid-namespace.js';
import type { HandlerAction, ProgramDef, Step } from './programs.js';
import { SimBug } from './sim-bug.js';

export type ProcState = 'running' | 'stopped' | 'exiting' | 'zombie' | 'dead';

const LEGAL: Readonly<Record<ProcState, readonly ProcState[]>> = {
  running: ['stopped', 'exiting', 'zombie'],
  stopped: ['running', 'exiting', 'zombie'],
  exiting: ['zombie'],
  zombie: ['dead'],
  dead: [],
};

/** What wait(2) reports (WIFEXITED/WEXITSTATUS, WIFSIGNALED/WTERMSIG/WCOREDUMP). */
export type ExitStatus =
  | { readonly kind: 'exited'; readonly code: number }
  | { readonly kind: 'signaled'; readonly signal: SignalName; readonly core: boolean };

export function describeExit(s: ExitStatus): string {
  return s.kind === 'exited' ? `exit ${s.code}` : `${s.signal}${s.core ? ' (core)' : ''}`;
}

/**
 * A signal's disposition (sigaction). 'external' is pidone's own handler: the signal
 * is handed to the Kernel.onSignal callback instead of a script.
 */
export type Disposition =
  | { readonly kind: 'default'; readonly noCldWait?: boolean }
  | { readonly kind: 'ignore' }
  | {
      readonly kind: 'handler';
      readonly action: HandlerAction | 'external';
      readonly code?: number;
      readonly run?: readonly Step[];
      /** SA_NOCLDWAIT (meaningful for SIGCHLD): children are autoreaped, SIGCHLD still comes. */
      readonly noCldWait?: boolean;
      /** Installed without SA_RESTART: a wait the handler interrupts fails with EINTR. */
      readonly noRestart?: boolean;
      /** SA_NOCLDSTOP (meaningful for SIGCHLD): no SIGCHLD when a child stops or continues. */
      readonly noCldStop?: boolean;
    };

export const SIG_DFL: Disposition = { kind: 'default' };
export const SIG_IGN: Disposition = { kind: 'ignore' };

/** What a scripted thread is blocked in. */
export type Block =
  | { readonly kind: 'sleep'; readonly until: number }
  | { readonly kind: 'pause' }
  /**
   * clone(CLONE_VFORK): wait_for_vfork_done(), in TASK_KILLABLE until the child execs
   * or its first task exits. Only a fatal signal ends it; others stay pending.
   */
  | { readonly kind: 'vfork'; readonly child: Proc }
  | { readonly kind: 'wait'; readonly target: number; readonly spec: WaitSpec; readonly idtype?: IdType; readonly options?: WaitOptions };

/** waitid(2)'s idtype (P_ALL, P_PID, P_PGID); absent for waitpid, whose number says it. */
export type IdType = 'all' | 'pid' | 'pgid';

/**
 * WEXITED (always, for waitpid), WUNTRACED/WSTOPPED, WCONTINUED, WNOWAIT (waitid only:
 * report without reaping or clearing).
 */
export interface WaitOptions {
  readonly exited?: boolean;
  readonly stopped?: boolean;
  readonly continued?: boolean;
  readonly nowait?: boolean;
}

/**
 * What a wait selects, fixed when the call starts (kernel_wait4): 'all' for -1
 * (PIDTYPE_MAX), 'pid' for pid > 0 (find_get_pid), 'pgid' for 0 (the caller's group,
 * get_task_pid(current, PIDTYPE_PGID)) and for < -1 (find_get_pid(-pid)). `pid` is the
 * struct pid itself, so a process that changes its group during the wait, or a group
 * id that is reused, does not change what the wait selects. null: no such pid.
 */
export type WaitSpec =
  | { readonly type: 'all' }
  | { readonly type: 'pid' | 'pgid'; readonly pid: Pid | null };

/** One level of a thread's script: a program, a repeat body, or a running handler. */
export interface Frame {
  readonly steps: readonly Step[];
  index: number;
  /** Further passes over `steps` after this one (repeat). */
  loopsLeft: number;
  /** A handler frame: when it ends, the thread goes back to this block (null: it was running). */
  readonly handler: boolean;
  readonly resume: Block | null;
  /** A handler installed without SA_RESTART: the interrupted wait ends with EINTR. */
  readonly noRestart?: boolean;
}

export class Thread {
  state: 'alive' | 'exited' = 'alive';
  /** exit(2) code of this task (task->exit_code). */
  exitCode = 0;
  frames: Frame[] = [];
  block: Block | null = null;
  /** In the scheduler's run queue. */
  queued = false;
  /** The timer that wakes a sleep. */
  wakeTimer: ClockTimer | null = null;
  /**
   * nsproxy->pid_ns_for_children of this task: unshare(CLONE_NEWPID) changes it for
   * the calling thread only (switch_task_namespaces(current, ...)).
   */
  nsForChildren: PidNamespace;
  /** current->pdeath_signal (prctl PR_SET_PDEATHSIG): per thread, 0 in a new task (copy_process). */
  pdeathSignal: SignalName | null = null;
  /**
   * task->vfork_done of a child created with CLONE_VFORK: the parent thread waiting in
   * wait_for_vfork_done() until this task execs or exits (mm_release). Only the
   * child's first task has it; threads it creates do not (copy_process clears it).
   */
  vforkDone: Thread | null = null;
  /** task->pending: signals sent to this thread alone (tgkill). */
  readonly pending = new PendingSignals();

  constructor(
    readonly pid: Pid,
    readonly proc: Proc,
  ) {
    this.nsForChildren = proc.ns;
  }

  get isLeader(): boolean {
    return this.proc.tgid === this.pid;
  }
}

let serials = 0;

export class Proc {
  /** Creation order, for deterministic iteration (for_each_process walks the task list in this order). */
  readonly serial = serials++;
  leader!: Thread;
  /** Live threads, the leader first while it lives. */
  threads: Thread[] = [];
  /** real_parent: the thread that forked this process, or the one it was reparented to. */
  parentThread: Thread | null = null;
  /**
   * Every thread's children, in list order: forked ones appended, moved ones (from a
   * dead sibling thread or a dead parent) spliced at the end. One thread's children
   * list (task->children) is this filtered by parentThread.
   */
  children: Proc[] = [];
  sessionLeader = false;
  state: ProcState = 'running';
  /** SIGNAL_GROUP_EXIT with group_exit_code: the process is dying, its threads exit as they run. */
  groupExit: ExitStatus | null = null;
  /** What wait() will report; set when the last thread is gone. */
  status: ExitStatus | null = null;
  /** signal->is_child_subreaper (prctl PR_SET_CHILD_SUBREAPER). */
  isChildSubreaper = false;
  /** signal->has_child_subreaper: some ancestor is a subreaper (find_new_reaper looks only then). */
  hasChildSubreaper = false;
  /** signal->group_exit_code of a completed group stop (SIGNAL_STOP_STOPPED): what WUNTRACED reports once. */
  stopCode: SignalName | null = null;
  /** SIGNAL_STOP_CONTINUED: continued since the last stop, not yet reported to a WCONTINUED wait. */
  continuedReport = false;
  /** SIGNAL_UNKILLABLE: a namespace init (copy_process sets it for is_child_reaper()). */
  unkillable = false;
  /** PF_FORKNOEXEC: forked and not yet exec'd (setpgid(2) on a child after exec is EACCES). */
  forkNoExec = true;
  readonly dispositions = new Map<SignalName, Disposition>();
  /** shared_pending, for signals acted on by the kernel or a script. */
  readonly pending = new PendingSignals();
  /** Signals waiting for pidone's onSignal handler (only the external process). */
  readonly batch = new PendingSignals();
  /** fs->pwd: the working directory, inherited at fork (chdir(2)). */
  cwd = '/';
  /** signal->oom_score_adj and oom_score_adj_min (proc(5)), inherited at fork. */
  oomScoreAdj = 0;
  oomScoreAdjMin = 0;
  /** The last child forked (the 'child' reference in scripts). */
  lastChild: Proc | null = null;
  program: ProgramDef | null = null;

  constructor(
    public name: string,
    public argv: readonly string[],
    readonly tgid: Pid,
    public pgrp: Pid,
    public session: Pid,
    /** pidone itself: driven by Kernel calls, not by a script. */
    readonly external: boolean,
  ) {}

  /** The parent process: real_parent's thread group (getppid). */
  get parent(): Proc | null {
    return this.parentThread?.proc ?? null;
  }

  /** PR_SET_PDEATHSIG of the main thread (pidone's own, set through the Kernel). */
  get pdeathSignal(): SignalName | null {
    return this.leader.pdeathSignal;
  }

  set pdeathSignal(signal: SignalName | null) {
    this.leader.pdeathSignal = signal;
  }

  /** find_alive_thread(): the first thread not yet exiting, in thread-list order. */
  get aliveThread(): Thread | null {
    return this.threads[0] ?? null;
  }

  /** One thread's children list (task->children), in order. */
  childrenOf(thread: Thread): Proc[] {
    return this.children.filter((c) => c.parentThread === thread);
  }

  /** task_active_pid_ns(). */
  get ns(): PidNamespace {
    return this.tgid.ns;
  }

  /** Not yet exiting: can run, receive signals, fork. */
  get live(): boolean {
    return (this.state === 'running' || this.state === 'stopped') && this.groupExit === null;
  }

  /** A zombie whose threads are all gone: wait() may collect it (delay_group_leader() is false). */
  get reapable(): boolean {
    return this.state === 'zombie' && this.threads.length === 0;
  }

  disposition(signal: SignalName): Disposition {
    return this.dispositions.get(signal) ?? SIG_DFL;
  }

  /** Move through the exit state machine; anything not in the table is a bug of the simulator. */
  transition(to: ProcState): void {
    if (!LEGAL[this.state].includes(to)) {
      throw new SimBug(`illegal transition of ${this.name} (${this.tgid.nr()}): ${this.state} -> ${to}`);
    }
    this.state = to;
  }
}
