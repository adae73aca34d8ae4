/**
 * LinuxKernel: the Kernel interface over the native addon and /proc.
 */
import { accessSync, closeSync, openSync, readdirSync, readFileSync, readlinkSync, readSync, writeFileSync } from 'node:fs';
import {
  isErrno,
  KernelError,
  NamespaceRefusedError,
  PID_MAX_LIMIT,
  walkDescendants,
  type Kernel,
  type ProcView,
  type ProcessIdentity,
  type ReapResult,
  type ReceivedSignal,
  type Spawned,
  type SpawnRequest,
  type Errno,
  type Timer,
  type WaitStatus,
} from '../kernel.js';
import { useTerminalSafeWrite } from '../../logger.js';
import { caughtSignals } from '../../signal-policy.js';
import { GLIBC_RESERVED, signalName, signalNumber, type SignalName } from '../../signals.js';
import type { NativeAddon, NativeErrnoError, SpawnOptions } from './addon.js';

/** What the addon's spawn() needs to exec one command (see native/exec-plan.h). */
interface ExecPlan {
  candidates: string[];
  argv: string[];
  envp: string[];
  options: Omit<SpawnOptions, 'cloneFlags' | 'namespaceChild'>;
}

/** PATH when the environment has none: what execvp(3) and login shells use. */
const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface LinuxKernelOptions {
  /**
   * The signals to catch (default: every catchable one, signal-policy.ts caughtSignals()).
   * Tests that run the kernel inside a test runner catch only what they need.
   */
  readonly signals?: readonly SignalName[];
  /**
   * The fds the process was started with, as the launcher (bin/pidone) recorded them
   * before Node opened its own: "pid:fd,fd,...". Node marks 0-16 close-on-exec at
   * start-up, so after that an inherited fd 7 cannot be told from one of Node's.
   */
  readonly launcherFds?: string;
  /**
   * PIDONE_PREFORKED ("goFd:adoptFd"): this process is the init of a new PID namespace
   * whose first child was forked before it exec'd (SpawnRequest.namespaceChild). The
   * first spawn() adopts that child instead of forking.
   */
  readonly preforked?: string;
}

/**
 * The addon's errno Error (errors.cc sets code and syscall) as a KernelError. Anything
 * else (a TypeError for a wrong argument, a code that is not an errno, a bug) is rethrown
 * as it is: dressed as an errno it would read as a system failure.
 */
function toKernelError(error: unknown, pid?: number): KernelError {
  const e = error as Partial<NativeErrnoError> | null;
  if (e && typeof e.code === 'string' && isErrno(e.code) && typeof e.syscall === 'string') {
    return new KernelError(e.code, e.syscall, e.pid ?? pid);
  }
  throw error;
}

/**
 * A failed spawn as the Kernel interface reports it: a failure while setting up new
 * namespaces (the addon marks those stages, native/exec-plan.h kStages) is a
 * NamespaceRefusedError with what to check on Linux.
 */
function toSpawnError(error: unknown, req: SpawnRequest): KernelError {
  const failure = toKernelError(error);
  if (!(error as Partial<NativeErrnoError>).namespaceSetup) return failure;
  return new NamespaceRefusedError(
    failure.code,
    failure.syscall,
    req.namespaces?.user
      ? 'user namespaces may be disabled (sysctl user.max_user_namespaces, kernel.unprivileged_userns_clone)'
      : 'the container or seccomp profile may forbid it',
  );
}

/** The errno of a failed node:fs call (EIO if it carries none). */
function fsErrno(error: unknown): Errno {
  const code = (error as NodeJS.ErrnoException).code;
  return code !== undefined && isErrno(code) ? code : 'EIO';
}

export class LinuxKernel implements Kernel {
  readonly name = 'linux';
  private readonly launcherFds: number[] | null;
  private preforked: [number, number] | null;

  constructor(
    private readonly addon: NativeAddon,
    options: LinuxKernelOptions = {},
  ) {
    const signals = options.signals ?? caughtSignals();
    // sigaction(2) fails only for a signal that cannot be caught (EINVAL), and none of
    // those is asked for. glibc's own two (GLIBC_RESERVED) are the exception: where
    // the addon cannot take them over (native/signals.cc, install_reserved) they stay
    // glibc's, as in any other program. A runtime that
    // reserves more (a sanitizer, another libc) would make pidone blind to those
    // signals, and a sent one would take its default action on the init. Better to say
    // so at start than to find out in production.
    const failed = addon
      .installSignalHandlers(signals.map((s) => signalNumber(s)))
      .filter((signo) => !GLIBC_RESERVED.includes(signo));
    // pidone's own writes (logs, errors, --help) must not turn the SIGTTOU it catches
    // into a loop: see useTerminalSafeWrite.
    useTerminalSafeWrite((fd, text) => addon.writeWithSigttouBlocked(fd, text));
    if (failed.length > 0) {
      throw new Error(
        `pidone: cannot catch ${failed.map((n) => signalName(n)).join(', ')} (sigaction refused), ` +
          'so they could not be forwarded; this runtime reserves them',
      );
    }
    this.launcherFds = parseLauncherFds(options.launcherFds, addon.ids()[0]);
    const m = /^(\d+):(\d+)$/.exec(options.preforked ?? '');
    this.preforked = m ? [Number(m[1]), Number(m[2])] : null;
  }

  self(): ProcessIdentity {
    const [pid, ppid, pgid, sid] = this.addon.ids();
    return { pid, ppid, pgid, sid };
  }

  geteuid(): number {
    return this.addon.geteuid();
  }

  spawn(req: SpawnRequest): Spawned {
    try {
      if (this.preforked !== null) {
        // The command was forked, and prepared from the same command line, by the
        // pidone outside this namespace: let it exec now.
        const [go, adopt] = this.preforked;
        this.preforked = null;
        const pid = this.addon.adoptPreforked(go, adopt);
        return { pid, pgid: pid };
      }
      const { candidates, argv, envp, options } = this.execPlan(req);
      const child = req.namespaceChild;
      const pid = this.addon.spawn(candidates, argv, envp, {
        ...options,
        cloneFlags: this.cloneFlags(req),
        ...(child && req.namespaces?.pid ? { namespaceChild: this.execPlan(child) } : {}),
      });
      return { pid, pgid: pid };
    } catch (error) {
      throw toSpawnError(error, req);
    }
  }

  private execPlan(req: Omit<SpawnRequest, 'namespaces' | 'namespaceChild'>): ExecPlan {
    const envPidIndex = req.envPidVar === undefined ? -1 : req.env.findIndex((e) => e.startsWith(`${req.envPidVar}=`));
    return {
      candidates: executableCandidates(req.file, req.env),
      argv: [...req.args],
      envp: [...req.env],
      options: {
        setsid: req.setsid,
        ttyFd: req.foregroundTty ?? -1,
        keepFds: [...req.inheritFds],
        envPidIndex,
        envPidName: req.envPidVar ?? '',
      },
    };
  }

  private cloneFlags(req: SpawnRequest): number {
    const ns = req.namespaces;
    if (!ns) return 0;
    return (
      (ns.pid ? this.addon.CLONE_NEWPID : 0) |
      (ns.mount ? this.addon.CLONE_NEWNS : 0) |
      (ns.user ? this.addon.CLONE_NEWUSER : 0)
    );
  }

  kill(target: number, signal: SignalName | 'SIG0'): void {
    try {
      this.addon.kill(target, signal === 'SIG0' ? 0 : signalNumber(signal));
    } catch (error) {
      throw toKernelError(error, target);
    }
  }

  reap(): ReapResult {
    let raw: { statuses: number[]; noChildren: boolean };
    try {
      raw = this.addon.reap();
    } catch (error) {
      throw toKernelError(error);
    }
    // These processes are reaped already: each status must reach the policy, so nothing
    // here may throw (signalName() names every signal number, glibc's 32 and 33 too).
    const statuses: WaitStatus[] = [];
    const s = raw.statuses;
    for (let i = 0; i + 3 < s.length; i += 4) {
      const pid = s[i]!;
      statuses.push(
        s[i + 1] === 0
          ? { pid, kind: 'exited', code: s[i + 2]! }
          : { pid, kind: 'signaled', signal: signalName(s[i + 2]!), core: s[i + 3] === 1 },
      );
    }
    return { statuses, noChildren: raw.noChildren };
  }

  onSignal(handler: (batch: readonly ReceivedSignal[]) => void): void {
    this.addon.watchSignals((raw) => {
      const batch: ReceivedSignal[] = [];
      for (let i = 0; i + 2 < raw.length; i += 3) {
        batch.push({ signal: signalName(raw[i]!), count: raw[i + 1]!, fromSelf: raw[i + 2]! });
      }
      handler(batch);
    });
  }

  setChildSubreaper(on: boolean): void {
    try {
      this.addon.setChildSubreaper(on ? 1 : 0);
    } catch (error) {
      throw toKernelError(error);
    }
  }

  isChildSubreaper(): boolean {
    return this.addon.getChildSubreaper();
  }

  setParentDeathSignal(signal: SignalName): void {
    try {
      this.addon.setParentDeathSignal(signalNumber(signal));
    } catch (error) {
      throw toKernelError(error);
    }
  }

  pidfdOpen(pid: number): number | null {
    try {
      return this.addon.pidfdOpen(pid);
    } catch (error) {
      throw toKernelError(error, pid);
    }
  }

  pidfdSendSignal(pidfd: number, signal: SignalName): void {
    try {
      this.addon.pidfdSendSignal(pidfd, signalNumber(signal));
    } catch (error) {
      throw toKernelError(error);
    }
  }

  pidfdClose(pidfd: number): void {
    try {
      this.addon.close(pidfd);
    } catch (error) {
      throw toKernelError(error);
    }
  }

  isatty(fd: number): boolean {
    return this.addon.isatty(fd);
  }

  tcgetpgrp(fd: number): number {
    try {
      return this.addon.tcgetpgrp(fd);
    } catch (error) {
      throw toKernelError(error);
    }
  }

  tcsetpgrp(fd: number, pgid: number): void {
    try {
      this.addon.tcsetpgrp(fd, pgid);
    } catch (error) {
      throw toKernelError(error, pgid);
    }
  }

  tiocnotty(fd: number): void {
    try {
      this.addon.tiocnotty(fd);
    } catch (error) {
      throw toKernelError(error);
    }
  }

  inheritedFds(): number[] {
    if (this.launcherFds !== null) return this.launcherFds;
    // Without the launcher's record: an fd that is not close-on-exec was inherited
    // (Node and libuv open all of theirs with O_CLOEXEC). Inherited fds 3-16 were
    // marked close-on-exec by Node at start-up and cannot be recognised here.
    const fds: number[] = [];
    for (const name of safeReaddir('/proc/self/fd')) {
      const fd = Number(name);
      if (!Number.isInteger(fd) || fd < 3) continue;
      const flags = this.addon.fdFlags(fd);
      if (flags >= 0 && (flags & 1) === 0) fds.push(fd);
    }
    return fds.sort((a, b) => a - b);
  }

  listChildren(pid: number): number[] {
    const children = new Set<number>();
    for (const tid of safeReaddir(`/proc/${pid}/task`)) {
      const text = readProcFile(`/proc/${pid}/task/${tid}/children`);
      if (text === null) continue;
      for (const word of text.split(' ')) {
        const child = Number(word);
        if (word !== '' && Number.isInteger(child)) children.add(child);
      }
    }
    return [...children];
  }

  /**
   * A procfs describes the PID namespace it was mounted from (proc(5)), not the
   * reader's: /proc/self resolves to the reader's pid as that namespace numbers it
   * (proc_self_get_link() in fs/proc/self.c; no link at all when the reader is not in
   * it). So /proc is the caller's own exactly when /proc/self names getpid(); the
   * NSpid line of /proc/self/status (one number per namespace from the mount's down
   * to the reader's) then has one number, which rules out a coincidence of numbers.
   */
  procView(): ProcView {
    const pid = this.addon.ids()[0];
    let self: string;
    try {
      self = readlinkSync('/proc/self');
    } catch {
      // No link: either no procfs, or one of a namespace the caller is not in.
      return exists('/proc/stat') ? 'foreign' : 'absent';
    }
    if (self !== String(pid)) return 'foreign';
    try {
      const nspid = /^NSpid:\s*(.*)$/m.exec(readFileSync('/proc/self/status', 'latin1'))?.[1];
      if (nspid !== undefined && nspid.trim().split(/\s+/).length !== 1) return 'foreign';
    } catch {
      return 'absent';
    }
    return exists(`/proc/self/task/${pid}/children`) ? 'own' : 'no-children';
  }

  /** Field 4 of /proc/<pid>/stat. */
  parentOf(pid: number): number {
    const fields = statFields(pid);
    return fields === null ? 0 : Number(fields[1]) || 0;
  }

  isStopped(pid: number): boolean {
    // Only our own /proc says anything about our pid: another namespace's names another process.
    const view = this.procView();
    if (view !== 'own' && view !== 'no-children') return false;
    const state = statFields(pid)?.[0];
    return state === 'T' || state === 't';
  }

  waitableChildren(first: number, last: number): number[] {
    return this.addon.waitableChildren(first, last);
  }

  pidMax(): number {
    try {
      const value = Number(readFileSync('/proc/sys/kernel/pid_max', 'latin1').trim());
      if (Number.isInteger(value) && value > 1 && value <= PID_MAX_LIMIT) return value;
    } catch {
      // No /proc/sys: assume the largest there can be.
    }
    return PID_MAX_LIMIT;
  }

  listDescendants(pid: number): number[] {
    return walkDescendants((p) => this.listChildren(p), pid).map((d) => d.pid);
  }

  now(): number {
    return performance.now();
  }

  setTimer(ms: number, fn: () => void): Timer {
    const handle = setTimeout(fn, ms);
    return { cancel: () => clearTimeout(handle) };
  }

  close(): void {
    this.addon.unwatchSignals();
  }

  /** Put back the signal dispositions found at start (for tests that run in-process). */
  restoreSignals(): void {
    this.addon.restoreSignalHandlers();
  }

  /**
   * Node's process.chdir is chdir(2) (libuv's uv_chdir); going through it, rather than
   * the addon, keeps Node's cached process.cwd() true.
   */
  chdir(path: string): void {
    try {
      process.chdir(path);
    } catch (error) {
      throw toKernelError(error);
    }
  }

  oomScoreAdj(): number {
    let text: string;
    try {
      text = readFileSync(OOM_SCORE_ADJ, 'latin1');
    } catch (error) {
      throw new KernelError(fsErrno(error), 'read(oom_score_adj)');
    }
    const value = Number(text.trim());
    if (!Number.isInteger(value)) throw new KernelError('EINVAL', 'read(oom_score_adj)');
    return value;
  }

  setOomScoreAdj(value: number): void {
    if (!Number.isInteger(value)) throw new KernelError('EINVAL', 'write(oom_score_adj)');
    try {
      // One write(2) of the whole number: the kernel parses each write on its own.
      writeFileSync(OOM_SCORE_ADJ, String(value));
    } catch (error) {
      throw new KernelError(fsErrno(error), 'write(oom_score_adj)');
    }
  }
}

/** proc(5). /proc/self is this process in the /proc mounted for its PID namespace. */
const OOM_SCORE_ADJ = '/proc/self/oom_score_adj';
function exists(path: string): boolean {
  try {
    accessSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * The fields of /proc/<pid>/stat after the command name: [state, ppid, pgrp, ...]
 * (proc(5); the name may hold spaces and parentheses, so split after the last ')').
 */
function statFields(pid: number): string[] | null {
  const stat = readProcFile(`/proc/${pid}/stat`);
  return stat === null ? null : stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

let procBuffer = Buffer.allocUnsafe(16 * 1024);

/**
 * A /proc file's text, or null if it cannot be read. procfs reports a size of 0, so
 * read until EOF into one reused buffer: a walk of thousands of processes reads two
 * files each, and readFileSync (an fstat and a fresh buffer per file) took about twice as long.
 */
function readProcFile(path: string): string | null {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return null;
  }
  try {
    let length = 0;
    for (;;) {
      if (length === procBuffer.length) {
        const bigger = Buffer.allocUnsafe(procBuffer.length * 2);
        procBuffer.copy(bigger, 0, 0, length);
        procBuffer = bigger;
      }
      const n = readSync(fd, procBuffer, length, procBuffer.length - length, null);
      if (n === 0) break;
      length += n;
    }
    return procBuffer.toString('latin1', 0, length);
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}

function safeReaddir(path: string): string[] {
  try {
    return readdirSync(path);
  } catch {
    return [];
  }
}

/**
 * The launcher's record "pid:fd,fd,..." (bin/pidone), trusted only when its pid is
 * ours: a stale value inherited from an outer pidone must not be used.
 */
export function parseLauncherFds(record: string | undefined, selfPid: number): number[] | null {
  if (record === undefined) return null;
  const m = /^(\d+):([\d,]*)$/.exec(record);
  if (!m || Number(m[1]) !== selfPid) return null;
  return m[2]!
    .split(',')
    .filter((s) => s !== '')
    .map(Number)
    .filter((fd) => fd >= 3)
    .sort((a, b) => a - b);
}

/**
 * The paths execvp(3) would try for `file`: the file itself when it contains a slash,
 * else each PATH directory (an empty entry is the current directory).
 */
export function executableCandidates(file: string, env: readonly string[]): string[] {
  if (file.includes('/')) return [file];
  const entry = env.find((e) => e.startsWith('PATH='));
  const path = entry === undefined ? DEFAULT_PATH : entry.slice(5);
  return path.split(':').map((dir) => (dir === '' ? file : `${dir.replace(/\/+$/, '')}/${file}`));
}
