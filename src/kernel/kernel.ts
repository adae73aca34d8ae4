/**
 * The Kernel interface: what pidone's policy (src/init.ts) needs from the operating
 * system, shaped after the system calls and holding no policy. Two implementations
 * live beside this file: LinuxKernel (src/kernel/linux/, over the native addon) and
 * SimKernel (src/kernel/sim/, an in-memory model of the Linux process model).
 *
 * Conventions shared by every implementation:
 * - Signals are names ('SIGTERM', 'SIGRTMIN+1'); numbers exist only at the addon
 *   boundary (see src/signals.ts).
 * - Errors are KernelError with a Node-style errno `code` ('ESRCH', 'EPERM', ...), the
 *   `syscall` that failed and the `pid` it was aimed at, identical on every kernel.
 * - Nothing here blocks: reap() is waitpid(-1, WNOHANG) in a loop, signals arrive as
 *   batches on the event loop, time is the kernel's own (virtual on the simulator).
 */
import type { SignalName } from '../signals.js';
import { strerror, type Errno } from './errno.js';

export { isErrno, strerror, type Errno } from './errno.js';

/**
 * A failed system call, on any kernel. The message reads like Node's own
 * ("ESRCH: No such process, kill -42").
 */
export class KernelError extends Error {
  override readonly name: string = 'KernelError';
  constructor(
    readonly code: Errno,
    readonly syscall: string,
    readonly pid?: number,
  ) {
    super(`${code}: ${strerror(code)}, ${syscall}${pid === undefined ? '' : ` ${pid}`}`);
  }
}

/**
 * spawn() with `namespaces` failed while creating or entering the new namespaces
 * (clone(2), the mounts of a private /proc, the user namespace's id maps): the
 * kernel, the container or a seccomp profile refused them, the command never ran.
 * `hint` is one clause, from the kernel that knows its platform, on what may forbid
 * it and what to check ("user namespaces may be disabled (sysctl ...)"); the policy
 * prints it without knowing what it says.
 */
export class NamespaceRefusedError extends KernelError {
  override readonly name: string = 'NamespaceRefusedError';
  constructor(
    code: Errno,
    syscall: string,
    readonly hint: string,
  ) {
    super(code, syscall);
  }
}

/** How a child ended, as waitpid(2) reports it (WIFEXITED / WIFSIGNALED). */
export type WaitStatus =
  | { readonly pid: number; readonly kind: 'exited'; readonly code: number }
  | { readonly pid: number; readonly kind: 'signaled'; readonly signal: SignalName; readonly core: boolean };

export interface ReapResult {
  /** Every status waitpid(-1, WNOHANG) returned, in the order it returned them. */
  readonly statuses: WaitStatus[];
  /** waitpid ended with ECHILD: the caller has no children left, live or zombie. */
  readonly noChildren: boolean;
}

/**
 * One batch of signals received since the previous batch. Standard signals coalesce
 * in the kernel, real-time ones queue: `count` is how many times each was delivered.
 * `fromSelf` counts the deliveries the process caused itself (si_pid == getpid() with
 * si_code SI_USER/SI_TKILL, e.g. SIGPIPE from a write to a closed pipe).
 */
export interface ReceivedSignal {
  readonly signal: SignalName;
  readonly count: number;
  readonly fromSelf: number;
}

/**
 * The strings of a SpawnRequest stand for bytes (execve(2) takes bytes, not text): a
 * lone surrogate U+DC80..U+DCFF is the byte 0x80..0xFF that was not part of valid UTF-8
 * in what pidone was given (src/environment.ts). LinuxKernel execs those bytes.
 */
export interface SpawnRequest {
  /** The command as given: a path (contains '/') or a name looked up in PATH. */
  readonly file: string;
  /** argv, including argv[0]. */
  readonly args: readonly string[];
  /** The child's environment, as NAME=value strings. */
  readonly env: readonly string[];
  /** setsid() in the child instead of setpgid(0, 0). */
  readonly setsid: boolean;
  /**
   * An fd of the controlling terminal: after its setsid/setpgid the child makes its
   * own group the terminal's foreground group (tcsetpgrp), with signals still blocked
   * so SIGTTOU cannot stop it. With setsid it first takes the terminal as its
   * controlling tty (TIOCSCTTY).
   */
  readonly foregroundTty?: number;
  /** The fds (besides 0, 1, 2) the child inherits; every other fd is closed on exec. */
  readonly inheritFds: readonly number[];
  /** An environment variable (e.g. 'LISTEN_PID') the child sets to its own pid before exec. */
  readonly envPidVar?: string;
  /**
   * Start the child in new namespaces (clone(2) instead of fork(2)): a PID namespace
   * whose PID 1 it is, a mount namespace with a fresh /proc, and a user namespace
   * mapping root inside to the caller outside (for callers without privileges).
   */
  readonly namespaces?: { readonly pid: boolean; readonly mount: boolean; readonly user: boolean };
  /**
   * With `namespaces.pid`: a command that the new namespace's init (the process this
   * request starts) forks before it execs, so that the command is the namespace's
   * pid 2; the init adopts it with its own first spawn().
   */
  readonly namespaceChild?: Omit<SpawnRequest, 'namespaces' | 'namespaceChild'>;
}

export interface Spawned {
  readonly pid: number;
  /** The child's process group (== pid: the child always leads a new group). */
  readonly pgid: number;
}

/** What a process knows about itself (getpid, getppid, getpgrp, getsid). */
export interface ProcessIdentity {
  readonly pid: number;
  readonly ppid: number;
  readonly pgid: number;
  readonly sid: number;
}

/**
 * Every descendant of `root`, breadth first (parents before their children), each with
 * the parent it was found under, given a way to list one process's children. Shared by
 * the kernels' listDescendants() and the init's walk of what remains; a pid seen twice
 * (a child that moved to a new parent during the walk) is listed once.
 */
export function walkDescendants(
  listChildren: (pid: number) => readonly number[],
  root: number,
): Array<{ pid: number; parent: number }> {
  const out: Array<{ pid: number; parent: number }> = [];
  const seen = new Set<number>();
  // `out` is the queue too: the next parent to expand is out[next] (no shift(), which
  // can cost a copy of the array each time).
  for (let next = -1, parent = root; ; parent = out[next]!.pid) {
    for (const pid of listChildren(parent)) {
      if (seen.has(pid)) continue;
      seen.add(pid);
      out.push({ pid, parent });
    }
    if (++next >= out.length) break;
  }
  return out;
}

export interface Timer {
  cancel(): void;
}

/**
 * What /proc tells the caller about processes (procView()):
 * - 'own': a procfs of the caller's own PID namespace, with the children files;
 * - 'foreign': a procfs of another PID namespace (the host's /proc bind-mounted into a
 *   container, `unshare --pid --fork` without --mount-proc): its numbers name other
 *   processes than the caller's pids do;
 * - 'absent': no procfs at /proc (nothing mounted, an empty tmpfs over it);
 * - 'no-children': the caller's own procfs, without /proc/PID/task/TID/children
 *   (a kernel without CONFIG_PROC_CHILDREN; gVisor).
 */
export type ProcView = 'own' | 'foreign' | 'absent' | 'no-children';

/** include/linux/threads.h PID_MAX_LIMIT on 64-bit: the largest pid_max, so every pid is below it. */
export const PID_MAX_LIMIT = 4 * 1024 * 1024;

export interface Kernel {
  /** 'linux' or 'sim', for logs and test names. */
  readonly name: string;

  /** getpid/getppid/getpgrp/getsid of the calling process. */
  self(): ProcessIdentity;
  /** geteuid(2). */
  geteuid(): number;

  /**
   * fork + exec. Returns once the child has exec'd: the child's group exists when
   * this returns. An exec failure throws KernelError with syscall 'execve' and the
   * errno (ENOENT, EACCES, ENOEXEC, ...); a fork failure, syscall 'fork' (EAGAIN).
   * With `namespaces`, a refusal of the new namespaces throws NamespaceRefusedError.
   */
  spawn(req: SpawnRequest): Spawned;

  /**
   * kill(2): target > 0 a process, target < -1 the group -target, target -1 every
   * process the caller may signal. 'SIG0' checks existence.
   */
  kill(target: number, signal: SignalName | 'SIG0'): void;

  /** waitpid(-1, WNOHANG) until it returns 0 or ECHILD. Never blocks. */
  reap(): ReapResult;

  /**
   * Start delivering received signals to `handler`, in batches, on the event loop.
   * Every catchable signal is already caught when the kernel object exists (none sent
   * before this call is lost: they arrive in the first batch). One handler; calling
   * again replaces it.
   */
  onSignal(handler: (batch: readonly ReceivedSignal[]) => void): void;

  /** prctl(PR_SET_CHILD_SUBREAPER). */
  setChildSubreaper(on: boolean): void;
  /** prctl(PR_GET_CHILD_SUBREAPER). */
  isChildSubreaper(): boolean;
  /** prctl(PR_SET_PDEATHSIG): the signal this process gets when its parent dies. */
  setParentDeathSignal(signal: SignalName): void;

  /** The fds >= 3 this process was started with (not the runtime's own). */
  inheritedFds(): number[];

  /** pidfd_open(2). Returns null where the kernel has no pidfd (ENOSYS). */
  pidfdOpen(pid: number): number | null;
  /** pidfd_send_signal(2). */
  pidfdSendSignal(pidfd: number, signal: SignalName): void;
  /** close(2) on a pidfd. */
  pidfdClose(pidfd: number): void;

  /** isatty(3). */
  isatty(fd: number): boolean;
  /** tcgetpgrp(3): the foreground process group of the terminal on fd. */
  tcgetpgrp(fd: number): number;
  /** tcsetpgrp(3), with SIGTTOU blocked for the call (docs/decisions.md, "Terminal"). */
  tcsetpgrp(fd: number, pgid: number): void;
  /** ioctl(fd, TIOCNOTTY): give up the controlling terminal. */
  tiocnotty(fd: number): void;

  /**
   * Whether the /proc calls below describe the caller's own processes, checked now.
   * listChildren(), listDescendants() and parentOf() mean something only when this
   * is 'own'; isStopped() says false unless /proc is the caller's namespace's.
   */
  procView(): ProcView;
  /** The pids whose parent is `pid` (/proc/<pid>/task/* /children). */
  listChildren(pid: number): number[];
  /** Every descendant of `pid`, parents before their children. */
  listDescendants(pid: number): number[];
  /** The parent of `pid` (field 4 of /proc/<pid>/stat); 0 if gone. */
  parentOf(pid: number): number;
  /** Is `pid` stopped (state T in /proc/<pid>/stat, by SIGSTOP, SIGTSTP, ...)? False if gone or unknown. */
  isStopped(pid: number): boolean;
  /**
   * The caller's children (live or zombie) among the pids first..last, found without
   * /proc: waitid(P_PID, pid, WEXITED | WNOHANG | WNOWAIT | __WALL) succeeds for a
   * child of the caller (of any of its threads) and fails with ECHILD for any other
   * pid (waitid(2)). Reaps nothing. Costs one system call per pid.
   */
  waitableChildren(first: number, last: number): number[];
  /** /proc/sys/kernel/pid_max: every pid is below it. PID_MAX_LIMIT when it cannot be read. */
  pidMax(): number;

  /** Monotonic milliseconds. */
  now(): number;
  /** A one-shot timer on this kernel's clock. */
  setTimer(ms: number, fn: () => void): Timer;

  /** Stop watching for signals and release what the kernel object holds. */
  close(): void;

  /** chdir(2) of the calling process (a relative path is resolved from its cwd). */
  chdir(path: string): void;
  /**
   * /proc/self/oom_score_adj (proc(5)): -1000..1000, added to the process's size when
   * the OOM killer picks a victim; -1000 exempts it. Inherited at fork.
   */
  oomScoreAdj(): number;
  /**
   * Write /proc/self/oom_score_adj. Raising needs no privilege; going below the lowest
   * value a privileged process has set (oom_score_adj_min, 0 by default) needs
   * CAP_SYS_RESOURCE: EACCES without it. Outside -1000..1000: EINVAL.
   */
  setOomScoreAdj(value: number): void;
}
