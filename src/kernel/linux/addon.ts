/**
 * The native addon's surface, typed in one place: plain positional arguments in, plain
 * values out (numbers for signals and fds). Only LinuxKernel calls it.
 */
export interface SpawnOptions {
  setsid: boolean;
  /** An fd of the terminal to hand the foreground to, or -1. */
  ttyFd: number;
  /** fds >= 3 the child inherits; every other fd is closed on exec. */
  keepFds: number[];
  /** Index in envp of the entry to overwrite with `${envPidName}=${child pid}`, or -1. */
  envPidIndex: number;
  envPidName: string;
  /** clone(2) namespace flags (CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUSER), 0 for fork. */
  cloneFlags: number;
  /**
   * With cloneFlags: a command the new namespace's init forks first (so it gets pid 2
   * there) and hands over through PIDONE_PREFORKED; see adoptPreforked.
   */
  namespaceChild?: { candidates: string[]; argv: string[]; envp: string[]; options: Omit<SpawnOptions, 'cloneFlags' | 'namespaceChild'> };
}

/** The errno fields the addon sets on the Errors it throws. */
export interface NativeErrnoError extends Error {
  code: string;
  errno: number;
  syscall: string;
  pid?: number;
  /** Set when the failing stage was part of setting up new namespaces (native/exec-plan.h kStages). */
  namespaceSetup?: boolean;
}

export interface NativeAddon {
  readonly SIGRTMIN: number;
  readonly SIGRTMAX: number;
  readonly CLONE_NEWPID: number;
  readonly CLONE_NEWNS: number;
  readonly CLONE_NEWUSER: number;

  /** Every child spawned from now on starts with this RLIMIT_NOFILE soft limit. */
  setChildNofileLimit(soft: number): void;
  /** pthread_sigmask(SIG_UNBLOCK) in the calling thread (Node blocks SIGUSR1 at start-up). */
  unblockSignals(signos: number[]): void;
  /** sigaction each signal to the counting handler; returns those that failed. */
  installSignalHandlers(signos: number[]): number[];
  restoreSignalHandlers(): void;
  /** [signo, count, fromSelf] * n, since the last call. */
  takeSignals(): number[];
  watchSignals(callback: (batch: number[]) => void): void;
  unwatchSignals(): void;
  /** A real SIGSEGV (a write through a null pointer), for pidone's own tests. */
  dereferenceNull(): void;

  /**
   * fork + exec over `candidates` (execvp rules); returns the pid once exec succeeded.
   * Strings are bytes as src/environment.ts carries them: U+DC80..U+DCFF are the bytes
   * 0x80..0xFF that were not UTF-8 (native/bytes.h).
   */
  spawn(candidates: string[], argv: string[], envp: string[], options: SpawnOptions): number;
  /** Take over the pre-forked first child of this namespace; returns its pid once it exec'd. */
  adoptPreforked(goFd: number, adoptFd: number): number;
  /** waitpid(-1, WNOHANG) loop: statuses are [pid, signaled ? 1 : 0, code | signo, core] * n. */
  reap(): { statuses: number[]; noChildren: boolean };
  /** The pids in first..last that are our children (waitid P_PID, WNOHANG | WNOWAIT); reaps nothing. */
  waitableChildren(first: number, last: number): number[];

  /**
   * This process's argv (Node's own options and the script included) and environ(7),
   * as the bytes they are: each entry followed by a NUL, in order (src/environment.ts
   * decodeEntries reads them).
   */
  argv(): Buffer;
  environ(): Buffer;

  /** [pid, ppid, pgid, sid] */
  ids(): [number, number, number, number];
  kill(target: number, signo: number): void;
  geteuid(): number;
  /** fcntl(fd, F_GETFD), -1 when not open. */
  fdFlags(fd: number): number;

  setChildSubreaper(on: 0 | 1): void;
  getChildSubreaper(): boolean;
  setParentDeathSignal(signo: number): void;

  pidfdOpen(pid: number): number | null;
  pidfdSendSignal(pidfd: number, signo: number): void;
  close(fd: number): void;

  isatty(fd: number): boolean;
  tcgetpgrp(fd: number): number;
  tcsetpgrp(fd: number, pgid: number): void;
  tiocnotty(fd: number): void;
  /** write(2) all of text to fd with SIGTTOU blocked in this thread; throws the errno. */
  writeWithSigttouBlocked(fd: number, text: string): void;
}
