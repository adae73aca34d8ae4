/**
 * The init's policy: spawn the command, forward signals to it, reap every zombie,
 * deal with what remains when it exits, and decide pidone's exit code.
 *
 * It talks only to the Kernel interface, so the same code runs as PID 1 on Linux, as
 * a subreaper on Linux, and on the simulated kernel.
 *
 * Phases: `starting` (set-up; any error here is fatal and nothing is left behind),
 * `running` (the main child lives), `draining` (the main child has exited; what
 * remains is waited for or killed per --remaining), `done`. From `running` on, pidone
 * must not bail out: an error is logged and supervision goes on, because PID 1's
 * death takes the whole container with it.
 */
import type { Config } from './config.js';
import { formatDuration } from './duration.js';
import { EXIT_SETUP, execFailureCode, exitCodeOf, remapExitCode } from './exit-status.js';
import { KernelError, NamespaceRefusedError, PID_MAX_LIMIT, strerror, walkDescendants, type Errno, type Kernel, type ProcView, type ReceivedSignal, type Timer, type WaitStatus } from './kernel/kernel.js';
import type { Logger } from './logger.js';
import { isRealTime, rewriteSignal, type SignalName } from './signals.js';

export interface InitOptions {
  /** The child's environment, NAME=value. */
  readonly env: readonly string[];
  /** A user-facing error line (exec failure, set-up failure). Default: the logger. */
  readonly reportError?: (line: string) => void;
  /** pidone's parent pid as seen at the very start, for --pdeathsig's race check. */
  readonly initialPpid?: number;
  /** --pid-ns: the pidone to run as init of the new namespace (the command runs under it). */
  readonly namespaceInit?: NamespaceInit;
  /**
   * How a command that cannot be executed is reported, and the exit code: compat
   * modes report as their tool does. Default: `pidone: cannot run 'X': <strerror>`,
   * 127 when nothing was found, 126 otherwise, like a shell.
   */
  readonly execFailure?: (file: string, code: Errno) => { exitCode: number; line: string };
}

/** The inner pidone of --pid-ns: its command line and environment. */
export interface NamespaceInit {
  readonly command: readonly string[];
  readonly env: readonly string[];
}

type Phase = 'starting' | 'running' | 'draining' | 'done';

/** How far the `kill` policy has got with what remains. */
type Escalation = 'none' | 'term' | 'kill';

/**
 * pidone's own oom_score_adj (proc(5)): OOM_SCORE_ADJ_MIN, never the OOM killer's
 * victim, as the kernel treats the host's init (mm/oom_kill.c, oom_unkillable_task).
 * Its death would kill everything it supervises; docs/decisions.md says why not -999.
 */
const INIT_OOM_SCORE_ADJ = -1000;

/** How often the SIGKILL round repeats while anything remains (a process forking in a loop). */
const KILL_ROUND_MS = 100;

/**
 * A pass over what remains works in slices, so that between two slices pidone reaps,
 * and handles signals (a second SIGTERM): this many processes signalled per slice...
 */
const PASS_SLICE_PROCESSES = 128;
/** ...or this many pids looked at with waitid(2) (about 0.5 us each), per slice. */
const PASS_SLICE_PIDS = 16_384;

/**
 * One pass over what remains, as a subreaper: every process found gets `signals`.
 * With pidone's own /proc ('tree') it walks the descendants breadth first from the
 * children files; without one ('children') it finds pidone's own children with
 * waitid(2) over every pid below pid_max.
 */
interface Pass {
  readonly signals: readonly SignalName[];
  readonly mode: 'tree' | 'children';
  /** tree: every process found, each with the parent it was found under; `head` is the next to signal. */
  readonly queue: Array<{ pid: number; parent: number }>;
  readonly seen: Set<number>;
  head: number;
  /** tree: pidone's own children were listed a second time (for those re-parented during the pass). */
  relisted: boolean;
  /** children: the next pid to look at, and the last. */
  next: number;
  readonly last: number;
  signalled: number;
  /** When the pass began (kernel clock), for the log. */
  readonly began: number;
  timer: Timer | null;
  readonly onDone: ((signalled: number | null) => void) | undefined;
}

/** Why a subreaper cannot walk its descendants, per /proc view (the `detail` of the warning). */
const BLIND_DETAIL: Readonly<Record<Exclude<ProcView, 'own'>, string>> = {
  foreign: '/proc belongs to another PID namespace, so its pids name other processes; mount a procfs of this namespace on /proc',
  absent: 'no procfs is mounted on /proc',
  'no-children': '/proc has no task/*/children files (gVisor, or a kernel without CONFIG_PROC_CHILDREN)',
};

/**
 * Signals that ask a process to end. A stopped process cannot act on them until it
 * runs again, so after forwarding one to a stopped child pidone sends SIGCONT too, as
 * systemd does after its SIGTERM (systemd.kill(5)).
 */
const ENDING_SIGNALS: ReadonlySet<SignalName> = new Set(['SIGTERM', 'SIGINT', 'SIGQUIT', 'SIGHUP']);

export class SetupError extends Error {
  override readonly name = 'SetupError';
}

export class Init {
  private phase: Phase = 'starting';
  private readonly log: Logger;
  private readonly debug: boolean;
  private isNamespaceInit = false;
  private selfPid = 0;
  private child: { pid: number; pgid: number } | null = null;
  private pidfd: number | null = null;
  private mainStatus: WaitStatus | null = null;
  private exitCode = 0;
  private escalation: Escalation = 'none';
  private timer: Timer | null = null;
  private orphansReaped = 0;
  /**
   * How many processes remained when the child exited; null until counted (as PID 1
   * before the SIGTERM, as a subreaper by the SIGTERM pass).
   */
  private remainingAtStart: number | null = null;
  /** How many processes were left for SIGKILL when the grace period ended; null until counted. */
  private killedAtEscalation: number | null = null;
  /** The passes over what remains now under way (the shutdown's, and forwarded signals'). */
  private readonly passes = new Set<Pass>();
  /** The SIGTERM pass, while under way (as a subreaper). */
  private termPass: Pass | null = null;
  /** The warning that /proc cannot show the descendants was logged. */
  private warnedBlind = false;
  /** The last SIGKILL pass found nothing while children remained: the next looks for them with waitid up to PID_MAX_LIMIT. */
  private scanToLimit = false;
  private warnedHidden = false;
  /** The terminal foreground group to give back on exit (docs/decisions.md, "Terminal"). */
  private restoreForeground: { fd: number; pgid: number } | null = null;
  /** TIOCNOTTY as a session leader makes the kernel send us SIGHUP and SIGCONT: not the child's. */
  private swallowHangup = false;
  /** --pdeathsig: the parent died before PR_SET_PDEATHSIG was in place. */
  private missedDeathSignal: SignalName | null = null;
  private resolve: (code: number) => void = () => {};
  private aborting = false;
  private abortCode = 0;

  constructor(
    private readonly kernel: Kernel,
    private readonly config: Config,
    logger: Logger,
    private readonly options: InitOptions,
  ) {
    this.log = logger.child({ component: 'init' });
    this.debug = this.log.isLevelEnabled('debug');
  }

  /** Run the command under this init; resolves with pidone's exit code. */
  run(): Promise<number> {
    return new Promise<number>((resolve) => {
      this.resolve = resolve;
      let code: number | null;
      try {
        code = this.start();
      } catch (error) {
        code = this.startFailure(error);
      }
      if (code !== null) this.finish(code);
    });
  }

  // ---- starting -------------------------------------------------------------------

  /** Set up and spawn. Returns an exit code when there is nothing to supervise. */
  private start(): number | null {
    const self = this.kernel.self();
    this.selfPid = self.pid;
    // pid_namespaces(7): the first process in a namespace has pid 1 there and is its init.
    this.isNamespaceInit = self.pid === 1;
    this.becomeSubreaper();
    this.armParentDeathSignal();

    // Every catchable signal is already caught (the Kernel installs its handlers when
    // it is created); from here on they are delivered to the policy.
    this.kernel.onSignal((batch) => this.guard('signal batch', () => this.onSignals(batch)));

    const [file, ...rest] = this.config.command;
    const env = [...this.options.env];
    const inheritFds = this.kernel.inheritedFds();
    // sd_listen_fds(3): LISTEN_PID names the process the fds are for. When it names
    // pidone, the child is the one that will use them.
    const listenPid = env.find((e) => e.startsWith('LISTEN_PID='))?.slice('LISTEN_PID='.length);
    const passListenFds = listenPid !== undefined && Number(listenPid) === self.pid;
    const terminal = this.prepareTerminal(self);
    const command = {
      file: file!,
      args: [file!, ...rest],
      env,
      setsid: this.config.setsid,
      inheritFds,
      ...(passListenFds ? { envPidVar: 'LISTEN_PID' } : {}),
      ...(terminal !== undefined ? { foregroundTty: terminal } : {}),
    };
    const inner = this.options.namespaceInit;
    try {
      this.child = inner
        ? this.kernel.spawn({
            file: inner.command[0]!,
            args: inner.command,
            env: inner.env,
            setsid: false,
            inheritFds,
            namespaces: { pid: true, mount: true, user: this.kernel.geteuid() !== 0 },
            namespaceChild: command,
          })
        : this.kernel.spawn(command);
    } catch (error) {
      this.restoreForeground = null;
      if (error instanceof KernelError && error.syscall === 'execve') {
        const report = this.options.execFailure?.(file!, error.code) ?? {
          exitCode: execFailureCode(error.code),
          line: `pidone: cannot run '${file}': ${strerror(error.code)}`,
        };
        this.reportError(report.line);
        return report.exitCode;
      }
      if (error instanceof NamespaceRefusedError) {
        throw new SetupError(
          `pidone: --pid-ns: the kernel refused a new PID namespace (${error.syscall}: ${strerror(error.code)}); ${error.hint}`,
        );
      }
      throw error;
    }
    this.phase = 'running';
    this.log.info({ child: this.child.pid, command: this.config.command }, 'started child');
    // The child inherited pidone's cwd and oom_score_adj at fork; now change pidone's own.
    this.releaseCwd();
    this.lowerOomScoreAdj();
    try {
      this.pidfd = this.kernel.pidfdOpen(this.child.pid);
    } catch (error) {
      // The child may already be gone (and is then a zombie until reaped: ESRCH
      // cannot happen before the reap, but be safe); fall back to kill(2).
      this.log.debug({ child: this.child.pid, err: String(error) }, 'pidfd_open failed; signalling by pid');
    }
    if (this.missedDeathSignal !== null) {
      this.log.info({ signal: this.missedDeathSignal }, 'parent died before --pdeathsig was set; acting as if the signal came');
      this.onSignal(this.missedDeathSignal);
    }
    // The child may have exited before the signal watch saw its SIGCHLD.
    this.reapPass();
    return null;
  }

  /**
   * An init must not pin the mount it was started in (umount(2) would fail with
   * EBUSY while its cwd is there): once the child runs in the original directory,
   * pidone moves to '/'. Nothing in pidone resolves a relative path after this.
   */
  private releaseCwd(): void {
    try {
      this.kernel.chdir('/');
    } catch (error) {
      this.log.warn({ err: String(error) }, "could not change pidone's directory to /");
    }
  }

  /**
   * Keep pidone out of the OOM killer's reach (docs/decisions.md): its badness counts
   * Node's ~35 MB of mapped binary, more than many workers, and its death takes all it
   * supervises (as PID 1, the container). The child keeps the value it inherited.
   * Below oom_score_adj_min (the last value a privileged process set; 0 unless one did)
   * the kernel wants CAP_SYS_RESOURCE, which Docker's default capabilities lack: then
   * pidone goes as low as it may, and says so at info level. Never fatal.
   */
  private lowerOomScoreAdj(): void {
    let given: number;
    try {
      given = this.kernel.oomScoreAdj();
    } catch (error) {
      this.log.info({ err: String(error) }, "could not read pidone's oom_score_adj; leaving it as it was given");
      return;
    }
    if (given <= INIT_OOM_SCORE_ADJ) return;
    try {
      this.kernel.setOomScoreAdj(INIT_OOM_SCORE_ADJ);
      this.log.debug({ from: given, to: INIT_OOM_SCORE_ADJ }, "lowered pidone's oom_score_adj");
      return;
    } catch (error) {
      if (!(error instanceof KernelError && error.code === 'EACCES')) {
        this.log.info({ err: String(error) }, "could not lower pidone's oom_score_adj; leaving it as it was given");
        return;
      }
    }
    // oom_score_adj_min cannot be read, and every value from it up is allowed: bisect
    // between the refused value and the one we have (at most 11 writes, once).
    let refused = INIT_OOM_SCORE_ADJ;
    let allowed = given;
    while (allowed - refused > 1) {
      const value = Math.floor((refused + allowed) / 2);
      try {
        this.kernel.setOomScoreAdj(value);
        allowed = value;
      } catch {
        refused = value;
      }
    }
    this.log.info(
      { from: given, to: allowed },
      "without CAP_SYS_RESOURCE pidone's oom_score_adj can go no lower; the OOM killer weighs pidone like any process of that value, and may pick it first",
    );
  }

  /**
   * PR_SET_PDEATHSIG, then the race check prctl(2) leaves to the caller: a parent that
   * died before the call sends nothing, so compare getppid() with the parent pidone
   * started with.
   */
  private armParentDeathSignal(): void {
    const signal = this.config.parentDeathSignal;
    if (signal === null) return;
    try {
      this.kernel.setParentDeathSignal(signal);
    } catch (error) {
      throw new SetupError(`pidone: --pdeathsig: ${error instanceof Error ? error.message : String(error)}`);
    }
    const initial = this.options.initialPpid;
    if (initial !== undefined && this.kernel.self().ppid !== initial) this.missedDeathSignal = signal;
  }

  /**
   * The terminal: when stdin is one and pidone's group is in its foreground, the
   * child's group gets the foreground (the child calls tcsetpgrp itself, before exec,
   * so nothing it does can run in the background by mistake); pidone takes it back on
   * exit. Started in the background, pidone leaves the terminal alone (tini takes it).
   * Returns the fd the child should make its terminal, if any.
   */
  private prepareTerminal(self: { pid: number; pgid: number; sid: number }): number | undefined {
    const fd = 0;
    if (!this.kernel.isatty(fd)) return undefined;
    let foreground: number;
    try {
      foreground = this.kernel.tcgetpgrp(fd);
    } catch (error) {
      // ENOTTY: a terminal, but not our controlling one.
      this.log.debug({ err: String(error) }, 'stdin is a terminal but not ours; leaving it alone');
      return undefined;
    }
    if (foreground !== self.pgid) {
      this.log.debug({ foreground, pgid: self.pgid }, 'started in the background; not taking the terminal');
      return undefined;
    }
    if (this.config.setsid) {
      // The child's new session can only take the terminal once ours lets go of it,
      // and only a session leader can let go for the whole session.
      if (self.sid !== self.pid) {
        this.log.debug('--setsid: pidone does not lead its session, so the child cannot take the terminal');
        return undefined;
      }
      try {
        this.kernel.tiocnotty(fd);
        this.swallowHangup = true;
        this.log.debug('detached from the terminal (TIOCNOTTY); ignoring the SIGHUP and SIGCONT it causes');
      } catch (error) {
        this.log.debug({ err: String(error) }, 'TIOCNOTTY failed; the child runs without a controlling terminal');
        return undefined;
      }
      return fd;
    }
    this.restoreForeground = { fd, pgid: self.pgid };
    return fd;
  }

  private becomeSubreaper(): void {
    if (this.isNamespaceInit && this.config.subreaper !== 'on') return;
    if (this.config.subreaper === 'off') {
      if (!this.isNamespaceInit) {
        this.log.warn(
          'not PID 1 and not a subreaper (--no-subreaper): orphans of the child go to the real init and zombies may pile up there; drop --no-subreaper to reap them',
        );
      }
      return;
    }
    try {
      this.kernel.setChildSubreaper(true);
      this.log.trace('became a child subreaper');
    } catch (error) {
      throw new SetupError(
        `pidone: cannot become a child subreaper (${error instanceof KernelError ? strerror(error.code) : String(error)}); ` +
          'run pidone as PID 1 or pass --no-subreaper to run without reaping orphans',
      );
    }
  }

  private startFailure(error: unknown): number {
    if (error instanceof SetupError) {
      this.reportError(error.message);
    } else if (error instanceof KernelError && error.syscall === 'fork') {
      this.reportError(`pidone: cannot start '${this.config.command[0]}': fork: ${strerror(error.code)}`);
    } else if (error instanceof KernelError) {
      this.reportError(`pidone: cannot start '${this.config.command[0]}': ${error.syscall}: ${strerror(error.code)}`);
    } else {
      this.reportError(`pidone: cannot start: ${error instanceof Error ? error.message : String(error)}`);
    }
    return EXIT_SETUP;
  }

  private reportError(line: string): void {
    if (this.options.reportError) this.options.reportError(line);
    else this.log.error(line);
  }

  // ---- signals --------------------------------------------------------------------

  private onSignals(batch: readonly ReceivedSignal[]): void {
    let sigchld = false;
    const swallow = this.swallowHangup;
    this.swallowHangup = false;
    for (const { signal, count, fromSelf } of batch) {
      if (signal === 'SIGCHLD') {
        if (this.debug) this.log.debug({ signal }, 'received signal');
        sigchld = true;
        continue;
      }
      if (swallow && (signal === 'SIGHUP' || signal === 'SIGCONT')) {
        this.log.debug({ signal }, 'ignoring the signal our own TIOCNOTTY caused');
        continue;
      }
      // Our own SIGPIPE (a log write to a closed stderr) is ours, not the child's.
      const received = signal === 'SIGPIPE' ? count - fromSelf : count;
      if (received <= 0) continue;
      // Standard signals coalesce in the kernel: one pending instance is all the
      // sender can count on. Real-time signals queue: forward each occurrence.
      const times = isRealTime(signal) ? received : 1;
      for (let i = 0; i < times; i++) this.onSignal(signal);
    }
    if (sigchld) this.reapPass();
    else if (this.phase === 'draining') this.drainStep();
  }

  private onSignal(received: SignalName): void {
    const signal = rewriteSignal(this.config.rewrite, received);
    // Hot paths (every signal, every reap) build their log fields only when debug is on:
    // nothing allocated per event beyond what the work needs (docs/performance.md).
    if (this.debug) this.log.debug({ signal: received, ...(signal !== received ? { rewrittenTo: signal } : {}) }, 'received signal');
    if (this.phase === 'draining') {
      if (signal === null) return;
      if (this.escalation === 'term' && (signal === 'SIGTERM' || signal === 'SIGINT')) {
        this.log.info({ signal }, 'second shutdown signal during the grace period: killing what remains now');
        this.escalate();
        return;
      }
      this.signalRemaining(signal);
      return;
    }
    if (signal !== null) this.forward(signal);
    if (this.config.stopWithChild && (received === 'SIGTSTP' || received === 'SIGTTIN' || received === 'SIGTTOU')) {
      // dumb-init's job control: the terminal stop applies to the init too (even when
      // the rewrite table dropped the signal, as dumb-init does), so that the shell
      // that started it sees it stopped; SIGCONT resumes both.
      this.log.debug({ signal: received }, 'stopping pidone with the child (--compat dumb-init)');
      try {
        this.kernel.kill(this.selfPid, 'SIGSTOP');
      } catch (error) {
        this.log.debug({ err: String(error) }, 'could not stop pidone');
      }
    }
  }

  /** Forward to the child's process group, or to the child alone with --single-child. */
  private forward(signal: SignalName): void {
    if (this.child === null) return;
    try {
      if (this.config.singleChild) {
        this.signalMainChild(signal);
      } else {
        this.kernel.kill(-this.child.pgid, signal);
      }
      if (this.debug) this.log.debug({ signal, child: this.child.pid, group: !this.config.singleChild }, 'forwarded signal');
      if (ENDING_SIGNALS.has(signal) && this.mainStatus === null && this.kernel.isStopped(this.child.pid)) {
        this.log.debug({ signal: 'SIGCONT', child: this.child.pid }, 'the child is stopped: continuing it so it can act');
        if (this.config.singleChild) this.signalMainChild('SIGCONT');
        else this.kernel.kill(-this.child.pgid, 'SIGCONT');
      }
    } catch (error) {
      if (error instanceof KernelError && error.code === 'ESRCH') {
        // The group is gone (its members exited); the reap will tell the rest.
        this.log.debug({ signal, child: this.child.pid }, 'nothing to forward to (ESRCH)');
      } else {
        this.log.warn({ signal, child: this.child.pid, err: String(error) }, 'forwarding failed');
      }
    }
  }

  /** Through the pidfd while we hold one, so a recycled pid is never hit. */
  private signalMainChild(signal: SignalName): void {
    if (this.pidfd !== null) this.kernel.pidfdSendSignal(this.pidfd, signal);
    else if (this.mainStatus === null) this.kernel.kill(this.child!.pid, signal);
  }

  // ---- reaping --------------------------------------------------------------------

  /**
   * waitpid(-1, WNOHANG) until nothing is left to collect: one SIGCHLD may stand for
   * many exits. Runs on every SIGCHLD batch, so no zombie whose parent is pidone
   * outlives one pass of the event loop.
   */
  private reapPass(): void {
    const { statuses, noChildren } = this.kernel.reap();
    for (const status of statuses) this.collected(status);
    if (this.debug) this.log.trace({ noChildren }, 'reap pass');
    if (this.phase === 'draining') this.drainStep(noChildren);
  }

  /**
   * One reaped status: the main child's exit, or an orphan. A reaped process is gone
   * for good, so an error while handling one status is logged here and must not lose
   * the others of the same batch (nor the main child's exit among them).
   */
  private collected(status: WaitStatus): void {
    try {
      if (this.child !== null && status.pid === this.child.pid && this.mainStatus === null) {
        this.onMainChildExit(status);
        return;
      }
      this.orphansReaped++;
      if (this.config.warnOnReap) this.log.warn({ child: status.pid, status: describeStatus(status) }, 'reaped orphan');
      else if (this.debug) this.log.debug({ child: status.pid, status: describeStatus(status) }, 'reaped orphan');
    } catch (error) {
      this.log.error(
        { child: status.pid, err: error instanceof Error ? error.stack : String(error) },
        'internal error while handling a reaped status; carrying on',
      );
    }
  }

  private onMainChildExit(status: WaitStatus): void {
    this.mainStatus = status;
    if (this.aborting) {
      this.log.info({ child: status.pid, status: describeStatus(status) }, 'child exited');
      return;
    }
    this.exitCode = remapExitCode(this.config.remapExit, exitCodeOf(status));
    if (this.pidfd !== null) {
      try {
        this.kernel.pidfdClose(this.pidfd);
      } catch {
        // Closing cannot meaningfully fail; nothing to do if it does.
      }
      this.pidfd = null;
    }
    this.log.info({ child: status.pid, status: describeStatus(status), exitCode: this.exitCode }, 'child exited');
    // dumb-init sends one SIGTERM (through its rewrite table) to what is left of the
    // child's group, then exits.
    if (this.config.termGroupOnExit) {
      const signal = rewriteSignal(this.config.rewrite, 'SIGTERM');
      if (signal !== null) this.forward(signal);
    }
    this.phase = 'draining';
    this.beginDrain();
  }

  // ---- what remains ---------------------------------------------------------------

  private beginDrain(): void {
    const policy = this.config.remaining;
    if (policy === 'leave') {
      this.finish(this.exitCode);
      return;
    }
    // Whatever remains is a child of pidone or a descendant of one (orphans come back
    // to pidone), so waitpid's ECHILD says that nothing remains, with or without /proc.
    this.drainStep();
    if (this.phase !== 'draining') return;
    const remaining = this.countRemaining();
    const counted = remaining === undefined ? {} : { remaining };
    if (remaining !== undefined) this.remainingAtStart = remaining;
    if (policy === 'wait') {
      this.log.info(counted, 'child exited; waiting for the processes that remain');
      return;
    }
    this.log.info({ ...counted, grace: formatDuration(this.config.graceMs) }, 'child exited; sending SIGTERM to what remains');
    this.escalation = 'term';
    // SIGCONT too: a stopped process cannot act on SIGTERM until it runs.
    this.termPass = this.signalRemaining(['SIGTERM', 'SIGCONT'], (signalled) => {
      this.termPass = null;
      if (signalled !== null) this.remainingAtStart ??= signalled;
    });
    if (this.config.graceMs === 0) this.escalate();
    else this.timer = this.kernel.setTimer(this.config.graceMs, () => this.guard('grace timer', () => this.escalate()));
  }

  private escalate(): void {
    if (this.phase !== 'draining' || this.escalation === 'kill') return;
    this.timer?.cancel();
    this.timer = null;
    this.escalation = 'kill';
    // Overtaken before it was done: what it reached so far is all that was counted.
    if (this.termPass !== null) this.remainingAtStart ??= this.termPass.signalled;
    this.termPass = null;
    // SIGKILL overtakes every pass still under way (the SIGTERM one, forwarded signals).
    this.cancelPasses();
    const remaining = this.countRemaining();
    if (remaining !== undefined) this.killedAtEscalation = remaining;
    this.log.info(remaining === undefined ? {} : { remaining }, 'grace period over: sending SIGKILL to what remains');
    this.killRound();
  }

  /** One SIGKILL round; repeats on a short timer, once its pass is done, while anything remains. */
  private killRound(): void {
    this.timer = null;
    if (this.phase !== 'draining') return;
    this.signalRemaining(['SIGKILL'], (signalled) => {
      if (signalled !== null) this.killedAtEscalation ??= signalled;
      this.drainStep();
      if (this.phase !== 'draining') return;
      // Children remain that the pass did not find (a children file that missed them,
      // pids above a lowered pid_max): the next pass looks for them with waitid everywhere.
      this.scanToLimit = signalled === 0;
      if (this.scanToLimit && !this.warnedHidden) {
        this.warnedHidden = true;
        this.log.warn({ pidMax: PID_MAX_LIMIT }, 'children remain that the last pass did not find: looking for them with waitid up to the largest pid');
      }
      this.timer = this.kernel.setTimer(KILL_ROUND_MS, () => this.guard('kill round', () => this.killRound()));
    });
  }

  /** After a reap while draining: stop once pidone has no child left. */
  private drainStep(noChildren?: boolean): void {
    if (this.phase !== 'draining') return;
    let empty = noChildren;
    if (empty === undefined || !empty) {
      const { statuses, noChildren: none } = this.kernel.reap();
      for (const status of statuses) this.collected(status);
      empty = none;
    }
    if (!empty) return;
    // No child left means no descendant left: every descendant is a child of pidone or
    // of one of its descendants, and orphans come back to pidone.
    this.log.info(
      {
        exitCode: this.exitCode,
        reaped: this.orphansReaped,
        remainedAtExit: this.remainingAtStart ?? 0,
        killed: this.killedAtEscalation ?? 0,
        escalation: this.escalation,
      },
      'nothing remains; exiting',
    );
    this.finish(this.exitCode);
  }

  /**
   * What remains: as PID 1 of its namespace, everything but pidone; otherwise pidone's
   * descendants, each with the parent it was found under.
   */
  private remaining(): Array<{ pid: number; parent: number }> {
    return walkDescendants((pid) => this.kernel.listChildren(pid), this.selfPid);
  }

  /**
   * How many processes remain, for the logs, where counting is not the work itself:
   * as PID 1 (which signals with one kill(-1)) with its own /proc. A subreaper counts
   * what its passes signal instead; without its own /proc nothing can count.
   */
  private countRemaining(): number | undefined {
    if (!this.isNamespaceInit || this.kernel.procView() !== 'own') return undefined;
    return this.remaining().length;
  }

  /**
   * Signal everything that remains. As PID 1 of its own namespace that is kill(-1),
   * which spares the caller (kill(2)) and needs no /proc. As a subreaper kill(-1)
   * would hit the whole host, so each descendant is signalled on its own, through a
   * pidfd checked to still be the process found: a pass (startPass) that works in
   * slices on the event loop. `onDone` runs when every process found was signalled,
   * with how many that were (null for kill(-1), which does not count).
   */
  private signalRemaining(signals: SignalName | readonly SignalName[], onDone?: (signalled: number | null) => void): Pass | null {
    const list = typeof signals === 'string' ? [signals] : signals;
    if (this.isNamespaceInit) {
      for (const signal of list) {
        try {
          this.kernel.kill(-1, signal);
        } catch (error) {
          if (!(error instanceof KernelError && error.code === 'ESRCH')) {
            this.log.warn({ signal, err: String(error) }, 'kill(-1) failed');
          }
        }
      }
      onDone?.(null);
      return null;
    }
    return this.startPass(list, onDone);
  }

  /**
   * A pass as a subreaper. Only pidone's own /proc is read: another namespace's numbers
   * name other processes (and its "still a child of" checks read the same wrong /proc),
   * and without the children files nothing below pidone can be seen. Then pidone falls
   * back on what needs no /proc: waitid(2) finds its own children, which it signals;
   * a deeper descendant is reached once its parent has died and it has come back to
   * pidone, the subreaper (the SIGKILL rounds repeat until nothing remains).
   */
  private startPass(signals: readonly SignalName[], onDone?: (signalled: number | null) => void): Pass | null {
    const view = this.scanToLimit ? 'forced' : this.kernel.procView();
    const tree = view === 'own';
    if (!tree && view !== 'forced' && !this.warnedBlind) {
      this.warnedBlind = true;
      this.log.warn(
        {
          proc: view,
          detail: `${BLIND_DETAIL[view]}; pidone finds its own children with waitid(2), and a deeper descendant only once its parent has died and it has been re-parented to pidone`,
        },
        "cannot see the descendants in /proc: signalling only pidone's own children",
      );
    }
    const pass: Pass = {
      signals,
      mode: tree ? 'tree' : 'children',
      queue: [],
      seen: new Set(),
      head: 0,
      relisted: false,
      next: 1,
      last: (view === 'forced' ? PID_MAX_LIMIT : this.kernel.pidMax()) - 1,
      signalled: 0,
      began: this.kernel.now(),
      timer: null,
      onDone,
    };
    if (tree) this.enqueueChildren(pass, this.selfPid);
    this.passes.add(pass);
    this.passSlice(pass);
    return this.passes.has(pass) ? pass : null;
  }

  private enqueueChildren(pass: Pass, parent: number): void {
    for (const pid of this.kernel.listChildren(parent)) {
      if (pass.seen.has(pid)) continue;
      pass.seen.add(pid);
      pass.queue.push({ pid, parent });
    }
  }

  /** One slice of a pass; the next runs from the event loop, after whatever is pending. */
  private passSlice(pass: Pass): void {
    pass.timer = null;
    if (this.phase !== 'draining' || !this.passes.has(pass)) return;
    let done: boolean;
    if (pass.mode === 'tree') {
      for (let budget = PASS_SLICE_PROCESSES; budget > 0 && pass.head < pass.queue.length; budget--) {
        const { pid, parent } = pass.queue[pass.head++]!;
        if (!this.signalDescendant(pid, parent, pass.signals)) continue;
        pass.signalled++;
        // Listed after the signal: a process with SIGKILL pending can fork no more
        // (copy_process() in kernel/fork.c fails a fork once a fatal signal is
        // pending), so the list read now is final. proc(5) warns that the children
        // file is reliable only for a process whose children cannot change.
        this.enqueueChildren(pass, pid);
      }
      if (pass.head >= pass.queue.length && !pass.relisted) {
        // Processes whose parent died during the pass came back to pidone: once more.
        pass.relisted = true;
        this.enqueueChildren(pass, this.selfPid);
      }
      done = pass.head >= pass.queue.length;
    } else {
      const last = Math.min(pass.last, pass.next + PASS_SLICE_PIDS - 1);
      for (const pid of this.kernel.waitableChildren(pass.next, last)) {
        if (this.signalChild(pid, pass.signals)) pass.signalled++;
      }
      pass.next = last + 1;
      done = pass.next > pass.last;
    }
    if (!done) {
      pass.timer = this.kernel.setTimer(0, () => this.guard('shutdown pass', () => this.passSlice(pass)));
      return;
    }
    this.passes.delete(pass);
    if (this.debug) {
      const ms = Math.round(this.kernel.now() - pass.began);
      this.log.debug({ signal: pass.signals.join(','), signalled: pass.signalled, mode: pass.mode, ms }, 'signalled what remains');
    }
    pass.onDone?.(pass.signalled);
  }

  private cancelPasses(): void {
    for (const pass of this.passes) pass.timer?.cancel();
    this.passes.clear();
  }

  /**
   * Signal one descendant found in the walk, through a pidfd: the pidfd pins the
   * process that has the pid now; while it lives, /proc/<pid>/stat is its own, and if
   * its parent is the one it was found under (or pidone, had that parent died) it is
   * the process from the walk and not a stranger that reused the pid. A process that
   * died meanwhile makes pidfd_send_signal fail with ESRCH, harmlessly.
   */
  private signalDescendant(pid: number, parent: number, signals: readonly SignalName[]): boolean {
    return this.withPidfd(pid, signals, () => {
      const ppid = this.kernel.parentOf(pid);
      return ppid === parent || ppid === this.selfPid;
    });
  }

  /**
   * Signal one child found by waitid, through a pidfd: once the pidfd pins the
   * process, waitid on its pid says again whether it is still pidone's child (not a
   * stranger that got the pid of a child reaped meanwhile). No /proc involved.
   */
  private signalChild(pid: number, signals: readonly SignalName[]): boolean {
    return this.withPidfd(pid, signals, () => this.kernel.waitableChildren(pid, pid).length === 1);
  }

  private withPidfd(pid: number, signals: readonly SignalName[], stillOurs: () => boolean): boolean {
    let pidfd: number | null = null;
    try {
      pidfd = this.kernel.pidfdOpen(pid);
    } catch {
      return false; // gone already
    }
    try {
      if (!stillOurs()) return false;
      for (const signal of signals) {
        if (pidfd !== null) this.kernel.pidfdSendSignal(pidfd, signal);
        else this.kernel.kill(pid, signal);
      }
      return true;
    } catch (error) {
      if (!(error instanceof KernelError && error.code === 'ESRCH')) {
        this.log.debug({ child: pid, signal: signals.join(','), err: String(error) }, 'signalling a descendant failed');
      }
      return false;
    } finally {
      if (pidfd !== null) {
        try {
          this.kernel.pidfdClose(pidfd);
        } catch {
          // Nothing to do.
        }
      }
    }
  }

  // ---- the end --------------------------------------------------------------------

  /**
   * A bug in pidone (an uncaught exception or rejected promise): the supervision state
   * can no longer be trusted, so end everything the way `--remaining kill` does (the
   * child included: SIGTERM, the grace period, SIGKILL) and exit with EXIT_INTERNAL.
   */
  abort(exitCode: number): void {
    if (this.phase === 'done') return;
    if (this.aborting) {
      this.finish(exitCode);
      return;
    }
    this.aborting = true;
    this.abortCode = exitCode;
    this.timer?.cancel();
    this.timer = null;
    this.phase = 'draining';
    this.escalation = 'term';
    // One pass, as in beginDrain: SIGCONT too, so a stopped process can act on SIGTERM.
    this.signalRemaining(['SIGTERM', 'SIGCONT']);
    this.timer = this.kernel.setTimer(this.config.graceMs, () => this.guard('grace timer', () => this.escalate()));
    this.drainStep();
  }

  private finish(code: number): void {
    if (this.phase === 'done') return;
    if (this.aborting) code = this.abortCode;
    this.phase = 'done';
    this.timer?.cancel();
    this.timer = null;
    if (this.restoreForeground !== null) {
      const { fd, pgid } = this.restoreForeground;
      try {
        this.kernel.tcsetpgrp(fd, pgid);
      } catch (error) {
        this.log.debug({ err: String(error) }, 'could not take the terminal foreground back');
      }
    }
    try {
      this.kernel.close();
    } catch {
      // Already closed.
    }
    this.resolve(code);
  }

  /**
   * Run a callback from the event loop. Once running, an error must not take PID 1
   * down: log it and carry on supervising.
   */
  private guard(what: string, fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.log.error({ err: error instanceof Error ? error.stack : String(error) }, `internal error in ${what}; carrying on`);
    }
  }
}

export function describeStatus(status: WaitStatus): string {
  return status.kind === 'exited' ? `exit ${status.code}` : `killed by ${status.signal}${status.core ? ' (core dumped)' : ''}`;
}
