/**
 * SimKernel: the Kernel interface over the simulated process model, plus test-only
 * controls (define programs, fork as some process, make one exit, send signals from
 * outside, move the clock, inspect the table). "The caller" of every Kernel method is
 * one process of the world, pidone, created by the constructor:
 *
 * - mode 'pid1' (default), the container case: init(1) -> runtime -> pidone, where
 *   pidone was cloned with CLONE_NEWPID, is PID 1 and child reaper of namespace 1, and
 *   leads its own session (runc calls setsid()).
 * - mode 'subreaper': init(1) -> sh (session leader) -> pidone, an ordinary process of
 *   the root namespace in its own process group, as a shell starts a job.
 *
 * pidone catches every signal of signal-policy.ts caughtSignals(); what it receives reaches
 * the onSignal handler as batches (see scheduler.ts for when). Pids passed to and
 * returned by Kernel methods are as pidone sees them; test controls take and return
 * root-namespace pids (or process names).
 */
import {
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
  type Timer,
  type WaitStatus,
} from '../kernel.js';
import { caughtSignals } from '../../signal-policy.js';
import type { SignalName } from '../../signals.js';
import type { ClockTimer } from './clock.js';
import { exitGroup, waitChild } from './exit.js';
import { copyProcess, execProgram } from './fork.js';
import { setpgid, setsid } from './groups.js';
import { formatTree, procInfo, processTable, type ProcInfo } from './inspect.js';
import type { Pid } from './pid.js';
import { PID_MAX_DEFAULT } from './pid-namespace.js';
import type { ExitStatus, Proc } from './process.js';
import type { ProgramDef, Step } from './programs.js';
import { finishZapIfEmpty, setChildSubreaper } from './reparent.js';
import { Scheduler } from './scheduler.js';
import { SimBug } from './sim-bug.js';
import { isValidSignal, killFrom, sendSignal } from './signal-delivery.js';
import type { Trace, TraceEvent } from './trace.js';
import { World } from './world.js';

export type SimMode = 'pid1' | 'subreaper';

/** A process named from outside: its root-namespace pid, or its name (the oldest live one). */
export type ProcSelector = number | string;

export interface SimKernelOptions {
  /** 'pid1' (default) or 'subreaper'; see the file comment. */
  readonly mode?: SimMode;
  /** /proc/sys/kernel/pid_max (default 32768). */
  readonly pidMax?: number;
  /** WCOREDUMP for core-dumping signals (default false, as with RLIMIT_CORE 0). */
  readonly coreDumps?: boolean;
  /** Drive the world from the event loop (default true); false: call run()/advance(). */
  readonly autoRun?: boolean;
  /** pidone's pid in the root namespace: the allocator is moved there first (a busy host). */
  readonly hostPid?: number;
  /** Programs to define at once (see defineProgram). */
  readonly programs?: Readonly<Record<string, readonly Step[] | Omit<ProgramDef, 'name'>>>;
  /** What inheritedFds() reports (default none). */
  readonly inheritedFds?: readonly number[];
  /** In automatic mode, stop moving the clock past this virtual time (default: no limit). */
  readonly timeLimit?: number;
  /** What geteuid() reports (default 0). Credentials are not otherwise modelled. */
  readonly euid?: number;
  /** pidone's working directory when it starts (default '/'). */
  readonly cwd?: string;
  /**
   * pidone's oom_score_adj when it starts, as a privileged runtime set it (so it is
   * also the lowest value pidone may go back to without CAP_SYS_RESOURCE). Default 0.
   */
  readonly oomScoreAdj?: number;
  /** Whether pidone has CAP_SYS_RESOURCE (default true: root on a host; Docker's default set lacks it). */
  readonly capSysResource?: boolean;
  /** What /proc is (default 'own'); see setProcView(). */
  readonly procView?: ProcView;
}

/** The parent of the first process of each setup: reaps whatever it is handed, like systemd or a shell. */
const REAPER_DISPOSITION = { kind: 'handler', action: 'reap' } as const;

export class SimKernel implements Kernel {
  readonly name = 'sim';
  /** The model itself, for tests that check its invariants. */
  readonly world: World;
  /** Root-namespace pid of pidone (the caller). */
  readonly pidonePid: number;
  private readonly scheduler: Scheduler;
  private readonly autoRun: boolean;
  private readonly timeLimit: number;
  private handler: ((batch: readonly ReceivedSignal[]) => void) | null = null;
  private closed = false;
  private callerInbox: Array<() => void> = [];
  private readonly callerTimers = new Set<ClockTimer>();
  private readonly pidfds = new Map<number, Pid>();
  private nextFd = 64;
  private tickScheduled = false;
  private idleWaiters: Array<() => void> = [];
  private exitWaiters: Array<(s: ExitStatus) => void> = [];
  private callerExit: ExitStatus | null = null;
  private readonly fds: readonly number[];
  private readonly euid: number;
  private readonly capSysResource: boolean;
  private proc: ProcView;

  constructor(options: SimKernelOptions = {}) {
    this.world = new World({ pidMax: options.pidMax ?? PID_MAX_DEFAULT, coreDumps: options.coreDumps ?? false });
    this.autoRun = options.autoRun ?? true;
    this.timeLimit = options.timeLimit ?? Infinity;
    this.fds = options.inheritedFds ?? [];
    this.euid = options.euid ?? 0;
    this.capSysResource = options.capSysResource ?? true;
    this.proc = options.procView ?? 'own';
    const w = this.world;
    w.onZapProgress = (ns) => finishZapIfEmpty(w, ns);
    w.onProcessExit = (p) => this.onProcessExit(p);
    this.scheduler = new Scheduler(w, () => this.activateCaller());
    for (const [name, def] of Object.entries(options.programs ?? {})) this.defineProgram(name, def);

    const init = this.forkOrThrow(null, 'init', { name: 'init', steps: [{ pause: true }] });
    init.dispositions.set('SIGCHLD', REAPER_DISPOSITION);
    init.forkNoExec = false;
    const mode = options.mode ?? 'pid1';
    const parentName = mode === 'pid1' ? 'runtime' : 'sh';
    const parent = this.forkOrThrow(init, parentName, { name: parentName, steps: [{ pause: true }] });
    parent.dispositions.set('SIGCHLD', REAPER_DISPOSITION);
    parent.forkNoExec = false;
    setsid(w, parent);
    if (options.hostPid !== undefined) w.rootNs.cursor = Math.max(w.rootNs.cursor, options.hostPid);
    const pidone = copyProcess(w, parent, { name: 'pidone', program: null, external: true, newPidNs: mode === 'pid1' });
    if ('error' in pidone) throw new KernelError(pidone.error, 'fork');
    if (mode === 'pid1') setsid(w, pidone);
    else setpgid(w, parent, pidone.tgid.nrNs(parent.ns), 0);
    pidone.forkNoExec = false;
    pidone.cwd = options.cwd ?? '/';
    pidone.oomScoreAdj = pidone.oomScoreAdjMin = options.oomScoreAdj ?? 0;
    for (const signal of caughtSignals()) pidone.dispositions.set(signal, { kind: 'handler', action: 'external' });
    w.caller = pidone;
    this.pidonePid = pidone.tgid.nr();
    this.scheduler.run();
  }

  private forkOrThrow(parent: Proc | null, name: string, program: ProgramDef): Proc {
    const p = copyProcess(this.world, parent, { name, program });
    if ('error' in p) throw new KernelError(p.error, 'fork');
    this.world.wake(p.leader);
    return p;
  }

  // ---- Kernel ---------------------------------------------------------------------

  self(): ProcessIdentity {
    const c = this.caller();
    const ns = c.ns;
    return {
      pid: c.tgid.nrNs(ns),
      ppid: c.parent?.tgid.nrNs(ns) ?? 0,
      pgid: c.pgrp.nrNs(ns),
      sid: c.session.nrNs(ns),
    };
  }

  geteuid(): number {
    this.caller();
    return this.euid;
  }

  /**
   * fork (clone(CLONE_NEWPID) when req.namespaces.pid: the child is PID 1 of a new
   * namespace), then in the child setsid() or setpgid(0, 0) (and setpgid(child,
   * child) in the parent), reset every disposition to SIG_DFL, execve. The program is
   * found by the file's basename. An exec failure is the real sequence: the child
   * exits 127, the spawner reaps it, and KernelError 'execve' is thrown.
   * Mount and user namespaces have nothing to model here and are accepted as given.
   */
  spawn(req: SpawnRequest): Spawned {
    const c = this.caller();
    const w = this.world;
    const name = req.file.slice(req.file.lastIndexOf('/') + 1);
    const newPidNs = req.namespaces?.pid ?? false;
    const child = copyProcess(w, c, { name, argv: req.args, program: null, newPidNs });
    if ('error' in child && newPidNs) {
      // copyProcess (fork.ts): EINVAL after unshare(CLONE_NEWPID), ENOSPC past MAX_PID_NS_LEVEL, or no free pid.
      throw new NamespaceRefusedError(child.error, 'clone', 'the simulated kernel could not create it (copy_pid_ns, alloc_pid)');
    }
    if ('error' in child) throw new KernelError(child.error, 'fork');
    const vpid = child.tgid.nrNs(c.ns);
    if (req.setsid) setsid(w, child);
    else {
      setpgid(w, child, 0, 0);
      setpgid(w, c, vpid, vpid);
    }
    child.dispositions.clear();
    const errno = execProgram(w, child.leader, w.program(name), name);
    this.kick();
    if (errno !== null) {
      w.record(child, 'exec-failed', { program: name, errno });
      // As LinuxKernel's child does (child_fail in native/exec-plan.cc): 127 whatever
      // the errno, which goes to the caller in the KernelError.
      exitGroup(w, child, { kind: 'exited', code: 127 });
      waitChild(w, c, vpid);
      throw new KernelError(errno, 'execve', vpid);
    }
    return { pid: vpid, pgid: child.pgrp.nrNs(c.ns) };
  }

  kill(target: number, signal: SignalName | 'SIG0'): void {
    const errno = killFrom(this.world, this.caller(), target, signal);
    this.kick();
    if (errno !== null) throw new KernelError(errno, 'kill', target);
  }

  reap(): ReapResult {
    const c = this.caller();
    const statuses: WaitStatus[] = [];
    for (;;) {
      const outcome = waitChild(this.world, c, -1);
      if (outcome.kind === 'status') {
        statuses.push(toWaitStatus(outcome.pid, outcome.status));
        continue;
      }
      if (statuses.length > 0) this.kick();
      return { statuses, noChildren: outcome.kind === 'echild' };
    }
  }

  onSignal(handler: (batch: readonly ReceivedSignal[]) => void): void {
    this.caller();
    this.handler = handler;
    this.kick();
  }

  setChildSubreaper(on: boolean): void {
    setChildSubreaper(this.world, this.caller(), on);
  }

  isChildSubreaper(): boolean {
    return this.caller().isChildSubreaper;
  }

  setParentDeathSignal(signal: SignalName): void {
    if (!isValidSignal(signal)) throw new KernelError('EINVAL', 'prctl(PR_SET_PDEATHSIG)');
    this.caller().pdeathSignal = signal;
  }

  inheritedFds(): number[] {
    return [...this.fds];
  }

  /**
   * pidfd_open(2): ESRCH when no struct pid has that number; EINVAL when it is not a
   * thread-group leader (or the group is gone and only a group id remains). Zombies
   * can be opened; the fd pins the struct pid, so a reused number is never hit.
   */
  pidfdOpen(pid: number): number | null {
    const c = this.caller();
    const p = pid > 0 ? c.ns.find(pid) : undefined;
    if (p === undefined) throw new KernelError(pid > 0 ? 'ESRCH' : 'EINVAL', 'pidfd_open', pid);
    if (p.tgidOf === null) throw new KernelError('EINVAL', 'pidfd_open', pid);
    const fd = this.nextFd++;
    this.pidfds.set(fd, p);
    return fd;
  }

  /** pidfd_send_signal(2): EBADF for an unknown fd, ESRCH once the process was reaped. */
  pidfdSendSignal(pidfd: number, signal: SignalName): void {
    const c = this.caller();
    const pid = this.pidfds.get(pidfd);
    if (pid === undefined) throw new KernelError('EBADF', 'pidfd_send_signal');
    if (!isValidSignal(signal)) throw new KernelError('EINVAL', 'pidfd_send_signal');
    const target = pid.tgidOf;
    if (target === null) throw new KernelError('ESRCH', 'pidfd_send_signal');
    sendSignal(this.world, signal, target, { proc: c, kernel: false });
    this.kick();
  }

  pidfdClose(pidfd: number): void {
    if (!this.pidfds.delete(pidfd)) throw new KernelError('EBADF', 'close');
  }

  /** The simulated world has no terminal. */
  isatty(_fd: number): boolean {
    return false;
  }

  tcgetpgrp(_fd: number): number {
    throw new KernelError('ENOTTY', 'tcgetpgrp');
  }

  tcsetpgrp(_fd: number, pgid: number): void {
    throw new KernelError('ENOTTY', 'tcsetpgrp', pgid);
  }

  tiocnotty(_fd: number): void {
    throw new KernelError('ENOTTY', 'ioctl(TIOCNOTTY)');
  }

  procView(): ProcView {
    this.caller();
    return this.proc;
  }

  /**
   * The namespace whose numbers /proc shows: the caller's own; for a 'foreign' /proc
   * the root namespace's (the host's /proc seen from a container), null when there
   * is no /proc to read.
   */
  private procNamespace(): Proc['ns'] | null {
    const c = this.caller();
    if (this.proc === 'absent') return null;
    return this.proc === 'foreign' ? this.world.rootNs : c.ns;
  }

  /**
   * Children of `pid` (zombies included, as /proc/<pid>/task/<tid>/children lists them);
   * [] if none or no such pid. With a 'foreign' /proc, the numbers of the host's.
   */
  listChildren(pid: number): number[] {
    const ns = this.procNamespace();
    if (ns === null || this.proc === 'no-children') return [];
    const p = this.world.findProc(pid, ns);
    if (p === null) return [];
    return p.children.map((child) => child.tgid.nrNs(ns)).filter((n) => n !== 0);
  }

  parentOf(pid: number): number {
    const ns = this.procNamespace();
    if (ns === null) return 0;
    const p = this.world.findProc(pid, ns);
    return p?.parent?.tgid.nrNs(ns) ?? 0;
  }

  isStopped(pid: number): boolean {
    if (this.proc !== 'own' && this.proc !== 'no-children') return false;
    const p = this.world.findProc(pid, this.caller().ns);
    return p !== null && p.state === 'stopped';
  }

  /** waitid(P_PID, pid, WNOHANG | WNOWAIT) over first..last: the caller's children, zombies included. */
  waitableChildren(first: number, last: number): number[] {
    const c = this.caller();
    return c.children
      .map((child) => child.tgid.nrNs(c.ns))
      .filter((n) => n !== 0 && n >= first && n <= last)
      .sort((a, b) => a - b);
  }

  /** pid_max of the caller's namespace; PID_MAX_LIMIT without a /proc to read it from, as on Linux. */
  pidMax(): number {
    return this.proc === 'absent' ? PID_MAX_LIMIT : this.caller().ns.pidMax;
  }

  /** Breadth first, so parents come before their children (as LinuxKernel walks /proc). */
  listDescendants(pid: number): number[] {
    return walkDescendants((p) => this.listChildren(p), pid).map((d) => d.pid);
  }

  now(): number {
    return this.world.clock.now();
  }

  /** A timer on the virtual clock; its callback is one activation of pidone. */
  setTimer(ms: number, fn: () => void): Timer {
    this.caller();
    let cancelled = false;
    const run = (): void => {
      if (!cancelled && !this.closed) fn();
    };
    const timer = this.world.clock.after(ms, () => {
      this.callerTimers.delete(timer);
      if (!cancelled) this.callerInbox.push(run);
    });
    this.callerTimers.add(timer);
    this.kick();
    return {
      cancel: () => {
        cancelled = true;
        this.world.clock.cancel(timer);
        this.callerTimers.delete(timer);
      },
    };
  }

  /** Stop delivering to pidone; the world stays inspectable and can still be run by hand. */
  close(): void {
    this.closed = true;
    this.handler = null;
    this.dropCallerWork();
    this.pidfds.clear();
    this.resolveIdle();
  }

  /**
   * chdir(2). The simulated world has no file system: every directory exists, except
   * the empty path (ENOENT, as on Linux). A relative path is resolved from the cwd.
   */
  chdir(path: string): void {
    const c = this.caller();
    if (path === '') throw new KernelError('ENOENT', 'chdir');
    c.cwd = resolvePath(c.cwd, path);
  }

  oomScoreAdj(): number {
    return this.caller().oomScoreAdj;
  }

  /**
   * fs/proc/base.c __set_oom_adj(): out of range is EINVAL; below oom_score_adj_min
   * without CAP_SYS_RESOURCE is EACCES; a write by a process with CAP_SYS_RESOURCE also
   * sets oom_score_adj_min.
   */
  setOomScoreAdj(value: number): void {
    const c = this.caller();
    if (!Number.isInteger(value) || value < -1000 || value > 1000) throw new KernelError('EINVAL', 'write(oom_score_adj)');
    if (value < c.oomScoreAdjMin && !this.capSysResource) throw new KernelError('EACCES', 'write(oom_score_adj)');
    c.oomScoreAdj = value;
    if (this.capSysResource) c.oomScoreAdjMin = value;
  }

  // ---- test controls ----------------------------------------------------------------

  /** A process's working directory (/proc/<pid>/cwd). */
  cwdOf(target: ProcSelector): string {
    return this.select(target).cwd;
  }

  /** A process's /proc/<pid>/oom_score_adj. */
  oomScoreAdjOf(target: ProcSelector): number {
    return this.select(target).oomScoreAdj;
  }

  /** Make /proc what `view` says from now on (a mount over it, a bind mount of the host's). */
  setProcView(view: ProcView): void {
    this.proc = view;
  }

  /** Register a program that spawn() and fork steps can run by name. */
  defineProgram(name: string, def: readonly Step[] | Omit<ProgramDef, 'name'>): void {
    const program: ProgramDef = Array.isArray(def)
      ? { name, steps: def as readonly Step[] }
      : { name, ...(def as Omit<ProgramDef, 'name'>) };
    this.world.programs.set(name, program);
  }

  /**
   * Make `parent` (default: the root init) fork a child running `program`, as if it had
   * called fork+exec now. Returns the child's root-namespace pid. Throws KernelError
   * (fork: EAGAIN, ENOMEM, ...; execve: ENOENT) like a real fork would fail.
   */
  spawnProcess(opts: { program: string | readonly Step[]; parent?: ProcSelector; name?: string; newPidNs?: boolean }): number {
    const w = this.world;
    const parent = this.select(opts.parent ?? 1);
    const program: ProgramDef | undefined =
      typeof opts.program === 'string' ? w.program(opts.program) : { name: opts.name ?? parent.name, steps: opts.program };
    const name = opts.name ?? program?.name ?? String(opts.program);
    if (program === undefined) throw new KernelError('ENOENT', 'execve');
    const child = copyProcess(w, parent, { name, program, newPidNs: opts.newPidNs ?? false });
    if ('error' in child) throw new KernelError(child.error, 'fork');
    const errno = execProgram(w, child.leader, program, name);
    if (errno !== null) throw new KernelError(errno, 'execve');
    this.kick();
    return child.tgid.nr();
  }

  /** Send `signal` to one process, from `from` (default the root init: outside every namespace). */
  signal(target: ProcSelector, signal: SignalName, opts: { from?: ProcSelector } = {}): void {
    const to = this.select(target);
    const from = this.select(opts.from ?? 1);
    if (!isValidSignal(signal)) throw new KernelError('EINVAL', 'kill');
    sendSignal(this.world, signal, to, { proc: from, kernel: false });
    this.kick();
  }

  /** kill(2) as process `sender`, with `target` read in the sender's namespace. */
  killAs(sender: ProcSelector, target: number, signal: SignalName | 'SIG0'): void {
    const errno = killFrom(this.world, this.select(sender), target, signal);
    this.kick();
    if (errno !== null) throw new KernelError(errno, 'kill', target);
  }

  /**
   * Make a process run `steps` now, as if its program had reached them: a test's "p3:
   * setsid". They run on the main thread (the first live one), or on the thread whose
   * root-namespace tid is `opts.tid`, the way a signal handler runs: afterwards the
   * thread goes back to what it was blocked in (pause, sleep). The steps run at the
   * next turn, like everything else. The differential check (test/differential/)
   * drives every simulated actor this way.
   */
  perform(target: ProcSelector, steps: readonly Step[], opts: { tid?: number } = {}): void {
    const p = this.select(target);
    if (p.external) throw new Error(`process ${p.tgid.nr()} (${p.name}) is pidone, which runs no script`);
    if (!p.live || p.state !== 'running') throw new Error(`process ${p.tgid.nr()} (${p.name}) is ${p.state}: it cannot run steps`);
    const thread = opts.tid === undefined ? p.threads[0] : p.threads.find((t) => t.pid.nr() === opts.tid);
    if (thread === undefined) throw new Error(`process ${p.tgid.nr()} (${p.name}) has no live thread ${opts.tid ?? ''}`.trimEnd());
    thread.frames.push({ steps, index: 0, loopsLeft: 0, handler: true, resume: thread.block });
    thread.block = null;
    this.world.wake(thread);
    this.kick();
  }

  /** Make a process call exit_group(code) now. */
  exitProcess(target: ProcSelector, code: number): void {
    const p = this.select(target);
    if (!p.live) throw new Error(`process ${p.tgid.nr()} (${p.name}) is ${p.state}: it cannot exit`);
    exitGroup(this.world, p, { kind: 'exited', code: code & 0xff });
    this.kick();
  }

  /** Run `fn` at virtual time `time` (absolute ms), inside the scheduler's loop. */
  at(time: number, fn: () => void): Timer {
    const timer = this.world.clock.at(Math.max(time, this.world.clock.now()), fn);
    this.kick();
    return { cancel: () => this.world.clock.cancel(timer) };
  }

  /** Run everything runnable at the current virtual time (manual driving). */
  run(): void {
    this.scheduler.run();
  }

  /** Let `ms` of virtual time pass, running the world after each timer. */
  advance(ms: number): void {
    this.scheduler.advance(ms);
  }

  /** Run and fire timers until none is left (or virtual time would pass `limit`). */
  runUntilIdle(limit = Infinity): void {
    this.scheduler.runUntilIdle(limit);
  }

  /**
   * Automatic mode: resolves once the world has nothing left to do (no runnable
   * process, no signal for pidone, no timer), or pidone has closed the kernel.
   */
  idle(): Promise<void> {
    return new Promise((resolve) => {
      this.idleWaiters.push(resolve);
      this.kick(true);
    });
  }

  /** Resolves with pidone's own exit status once its process has exited. */
  pidoneExited(): Promise<ExitStatus> {
    if (this.callerExit !== null) return Promise.resolve(this.callerExit);
    return new Promise((resolve) => this.exitWaiters.push(resolve));
  }

  get pidoneStatus(): ExitStatus | null {
    return this.callerExit;
  }

  get trace(): Trace {
    return this.world.trace;
  }

  get events(): readonly TraceEvent[] {
    return this.world.trace.events;
  }

  /** The process table (live and zombie processes), `vpid` as pidone sees each. */
  ps(): ProcInfo[] {
    return processTable(this.world, this.viewerNs());
  }

  /** One process, or null once it has been reaped. */
  process(target: ProcSelector): ProcInfo | null {
    const p = this.find(target);
    return p ? procInfo(p, this.viewerNs()) : null;
  }

  /** Root pid of the oldest live process called `name` (else the oldest zombie), or null. */
  pidOf(name: string): number | null {
    return this.find(name)?.tgid.nr() ?? null;
  }

  /** The pid pidone would use for a root-namespace pid (0 if it cannot see it). */
  vpidOf(target: ProcSelector): number {
    return this.select(target).tgid.nrNs(this.viewerNs());
  }

  tree(): string {
    return formatTree(this.world);
  }

  // ---- internals ------------------------------------------------------------------

  private viewerNs() {
    return (this.world.caller ?? this.world.rootNs.childReaper!).ns;
  }

  private find(target: ProcSelector): Proc | null {
    const w = this.world;
    if (typeof target === 'number') return w.findProc(target, w.rootNs);
    const named = [...w.procs].filter((p) => p.name === target);
    return named.find((p) => p.live) ?? named[0] ?? null;
  }

  private select(target: ProcSelector): Proc {
    const p = this.find(target);
    if (p === null) throw new Error(`no process ${typeof target === 'number' ? `with pid ${target}` : `named '${target}'`}`);
    return p;
  }

  /** The calling process; a Kernel call after pidone's process has exited is a misuse of the simulator. */
  private caller(): Proc {
    const c = this.world.caller;
    if (c === null || c.state === 'zombie' || c.state === 'dead' || c.state === 'exiting') {
      throw new SimBug('a Kernel method was called after pidone\'s process exited');
    }
    return c;
  }

  /** One activation of pidone: its pending signals as a batch, else one due timer callback. */
  private activateCaller(): boolean {
    const c = this.world.caller;
    if (c === null || this.closed || c.state !== 'running' || c.groupExit !== null) return false;
    if (this.handler !== null && c.batch.size > 0) {
      const batch = c.batch.takeAll();
      this.world.record(c, 'batch', {
        signals: batch.map((b) => (b.count > 1 ? `${b.signal}x${b.count}` : b.signal)).join(','),
      });
      this.handler(batch);
      return true;
    }
    const fn = this.callerInbox.shift();
    if (fn === undefined) return false;
    fn();
    return true;
  }

  private onProcessExit(p: Proc): void {
    if (p !== this.world.caller) return;
    this.callerExit = p.status;
    this.handler = null;
    this.dropCallerWork();
    for (const resolve of this.exitWaiters.splice(0)) resolve(p.status!);
  }

  private dropCallerWork(): void {
    for (const t of this.callerTimers) this.world.clock.cancel(t);
    this.callerTimers.clear();
    this.callerInbox = [];
  }

  /** Automatic mode: make sure a turn runs soon. */
  private kick(force = false): void {
    if (!this.autoRun || this.tickScheduled || (this.closed && !force)) return;
    this.tickScheduled = true;
    setImmediate(() => this.tick());
  }

  private tick(): void {
    this.tickScheduled = false;
    if (!this.closed) {
      const deadline = this.world.clock.nextDeadline();
      const canFire = deadline !== null && deadline <= this.timeLimit;
      if (this.scheduler.turn() || (canFire && this.scheduler.fireNext(this.timeLimit))) {
        this.kick();
        return;
      }
    }
    this.resolveIdle();
  }

  private resolveIdle(): void {
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }
}

function toWaitStatus(pid: number, s: ExitStatus): WaitStatus {
  return s.kind === 'exited' ? { pid, kind: 'exited', code: s.code } : { pid, kind: 'signaled', signal: s.signal, core: s.core };
}

/** `path` resolved from the directory `cwd`, with '.' and '..' folded (path_resolution(7)). */
function resolvePath(cwd: string, path: string): string {
  const parts: string[] = [];
  for (const part of (path.startsWith('/') ? path : `${cwd}/${path}`).split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') parts.pop();
    else parts.push(part);
  }
  return `/${parts.join('/')}`;
}
