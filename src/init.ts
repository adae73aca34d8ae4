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
import { KernelError, strerror, walkDescendants, type Errno, type Kernel, type ReceivedSignal, type Timer, type WaitStatus } from './kernel/kernel.js';
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

/** How often the SIGKILL round repeats while anything remains (a process forking in a loop). */
const KILL_ROUND_MS = 100;

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
  private remainingAtStart = 0;
  /** How many processes were left for SIGKILL when the grace period ended. */
  private killedAtEscalation = 0;
  /** The terminal foreground group to give back on exit (DESIGN.md "Terminal"). */
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
      if (error instanceof KernelError && inner && /^(clone|mount|userns)/.test(error.syscall)) {
        throw new SetupError(
          `pidone: --pid-ns: the kernel refused a new PID namespace (${error.syscall}: ${strerror(error.code)}); ` +
            (this.kernel.geteuid() === 0
              ? 'the container or seccomp profile may forbid it'
              : 'user namespaces may be disabled (sysctl user.max_user_namespaces, kernel.unprivileged_userns_clone)'),
        );
      }
      throw error;
    }
    this.phase = 'running';
    this.log.info({ child: this.child.pid, command: this.config.command }, 'started child');
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
          this.config.compat === 'tini'
            ? 'not running as PID 1 and not registered as a child subreaper: orphans will not be re-parented to this init, so their zombies will not be reaped; use -s or set TINI_SUBREAPER, or run as PID 1'
            : 'not PID 1 and not a subreaper (--no-subreaper): orphans of the child go to the real init and zombies may pile up there; drop --no-subreaper to reap them',
        );
      }
      return;
    }
    try {
      this.kernel.setChildSubreaper(true);
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
    const remaining = this.remaining().length;
    this.remainingAtStart = remaining;
    if (remaining === 0) {
      // Nothing else lives; collect any last zombie and stop.
      this.drainStep();
      return;
    }
    if (policy === 'wait') {
      this.log.info({ remaining }, 'child exited; waiting for the processes that remain');
      return;
    }
    this.log.info({ remaining, grace: formatDuration(this.config.graceMs) }, 'child exited; sending SIGTERM to what remains');
    this.escalation = 'term';
    this.signalRemaining('SIGTERM');
    // SIGCONT too: a stopped process cannot act on SIGTERM until it runs.
    this.signalRemaining('SIGCONT');
    if (this.config.graceMs === 0) this.escalate();
    else this.timer = this.kernel.setTimer(this.config.graceMs, () => this.guard('grace timer', () => this.escalate()));
  }

  private escalate(): void {
    if (this.phase !== 'draining' || this.escalation === 'kill') return;
    this.timer?.cancel();
    this.escalation = 'kill';
    const remaining = this.remaining().length;
    this.killedAtEscalation = remaining;
    if (remaining > 0) this.log.info({ remaining }, 'grace period over: sending SIGKILL to what remains');
    this.killRound();
  }

  /** One SIGKILL round; repeats on a short timer while anything remains. */
  private killRound(): void {
    this.timer = null;
    if (this.phase !== 'draining') return;
    this.signalRemaining('SIGKILL');
    this.drainStep();
    if (this.phase === 'draining') {
      this.timer = this.kernel.setTimer(KILL_ROUND_MS, () => this.guard('kill round', () => this.killRound()));
    }
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
        remainedAtExit: this.remainingAtStart,
        killed: this.killedAtEscalation,
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
   * Signal everything that remains. As PID 1 of its own namespace that is kill(-1),
   * which spares the caller (kill(2)). As a subreaper kill(-1) would hit the whole
   * host, so each descendant is signalled on its own, through a pidfd checked to
   * still be the process found in the walk.
   */
  private signalRemaining(signal: SignalName): number {
    if (this.isNamespaceInit) {
      try {
        this.kernel.kill(-1, signal);
      } catch (error) {
        if (!(error instanceof KernelError && error.code === 'ESRCH')) {
          this.log.warn({ signal, err: String(error) }, 'kill(-1) failed');
        }
      }
      return 1;
    }
    let sent = 0;
    for (const { pid, parent } of this.remaining()) {
      if (this.signalDescendant(pid, parent, signal)) sent++;
    }
    return sent;
  }

  private signalDescendant(pid: number, parent: number, signal: SignalName): boolean {
    let pidfd: number | null = null;
    try {
      pidfd = this.kernel.pidfdOpen(pid);
    } catch {
      return false; // gone already
    }
    try {
      if (pidfd !== null) {
        // The pidfd pins the process that now has this pid. If it is still a child of
        // the parent it was found under (or of pidone, had that parent died), it is
        // the process from the walk and not a stranger that reused the pid.
        const stillOurs =
          this.kernel.listChildren(parent).includes(pid) || this.kernel.listChildren(this.selfPid).includes(pid);
        if (!stillOurs) return false;
        this.kernel.pidfdSendSignal(pidfd, signal);
      } else {
        this.kernel.kill(pid, signal);
      }
      return true;
    } catch (error) {
      if (!(error instanceof KernelError && error.code === 'ESRCH')) {
        this.log.debug({ child: pid, signal, err: String(error) }, 'signalling a descendant failed');
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
    this.signalRemaining('SIGTERM');
    this.signalRemaining('SIGCONT');
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
