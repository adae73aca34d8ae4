/**
 * The init's policy: spawn the command, forward signals to it, reap every zombie,
 * deal with what remains when it exits, and decide pidone's exit code.
 *
 * It talks only to the Kernel interface, so the same code runs as PID 1 on Linux, as
 * a subreaper on Linux, and on the simulated kernel.
 *
 * Phases: `starting` (set-up; any error here is fatal and nothing is left behind),
 * `running` (the main child lives), `draining` (the main child has exited, or abort()
 * was called; pidone's descendants are waited for or killed per --remaining), `done`.
 * From `running` on, pidone must not bail out: an error is logged and supervision goes
 * on, because PID 1's death takes the whole container with it.
 */
import type { Config } from './config.js';
import { formatDuration } from './duration.js';
import { EXIT_SETUP, exitCodeOf, pidoneExecFailure, remapExitCode, type ExecFailure } from './exit-status.js';
import { KernelError, NamespaceRefusedError, PID_MAX_LIMIT, strerror, walkDescendants, type Errno, type Kernel, type ProcView, type ReceivedSignal, type Timer, type WaitStatus } from './kernel/kernel.js';
import type { ProcessIdentity, Spawned, SpawnRequest } from './kernel/kernel.js';
import type { Logger } from './logger.js';
import { rewriteSignal } from './signal-policy.js';
import { isRealTime, JOB_CONTROL_STOP_SIGNALS, type SignalName } from './signals.js';

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
   * modes report as their tool does. Default: pidone's own (pidoneExecFailure in
   * src/exit-status.ts).
   */
  readonly execFailure?: (file: string, code: Errno) => ExecFailure;
}

/** The inner pidone of --pid-ns: its command line and environment. */
export interface NamespaceInit {
  readonly command: readonly string[];
  readonly env: readonly string[];
}

type Phase = 'starting' | 'running' | 'draining' | 'done';

/** --drain-delay: the first SIGTERM, held (as what it will be forwarded as), since when, and the timer that ends the hold. */
interface HeldSigterm {
  readonly timer: Timer;
  readonly since: number;
  readonly signal: SignalName;
}

/** How far the shutdown of the descendants has got: nothing sent yet, SIGTERM, SIGKILL. */
type Escalation = 'none' | 'term' | 'kill';

/**
 * The shutdown of pidone's descendants, from the main child's exit (or abort()) until
 * nothing remains: what `draining` means. Null before and once pidone is done.
 */
interface Drain {
  escalation: Escalation;
  /** 'term': the grace period's timer; 'kill': the next SIGKILL round's. */
  timer: Timer | null;
  /** The SIGTERM pass (as a subreaper): if the grace period overtakes it, its count so far is all that was counted. */
  termPass: Pass | null;
  /**
   * How many descendants were alive when SIGTERM went out: as PID 1 counted just before
   * its kill(-1); as a subreaper how many the SIGTERM pass signalled. Null until counted.
   */
  aliveAtTerm: number | null;
  /** The same when the grace period ended and SIGKILL went out (as a subreaper: the first SIGKILL pass). */
  aliveAtKill: number | null;
  /** abort(): the exit code pidone ends with, whatever the child's. Null for the drain after the child's exit. */
  abortCode: number | null;
  /** The last SIGKILL pass found nothing while children remained: the next looks for them with waitid up to PID_MAX_LIMIT. */
  scanToLimit: boolean;
}

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

/**
 * sd_listen_fds(3): LISTEN_PID names the process the passed fds are for. When it names
 * pidone, the child is the one that will use them (and sets LISTEN_PID to its own pid).
 */
function listenFdsAreFor(env: readonly string[], selfPid: number): boolean {
  const listenPid = env.find((e) => e.startsWith('LISTEN_PID='))?.slice('LISTEN_PID='.length);
  return listenPid !== undefined && Number(listenPid) === selfPid;
}

export class SetupError extends Error {
  override readonly name = 'SetupError';
}

export class Init {
  private readonly log: Logger;
  private readonly debug: boolean;
  private isNamespaceInit = false;
  private selfPid = 0;
  private child: { pid: number; pgid: number } | null = null;
  private pidfd: number | null = null;
  private mainStatus: WaitStatus | null = null;
  private exitCode = 0;
  private orphansReaped = 0;
  /** Set while draining (see Drain). */
  private drain: Drain | null = null;
  /** finish() ran: the exit code is given, and late timers and passes do nothing. */
  private finished = false;
  /** The passes over the descendants now under way (the shutdown's, and forwarded signals'). */
  private readonly passes = new Set<Pass>();
  /** The warning that /proc cannot show the descendants was logged. */
  private warnedBlind = false;
  /** The warning that a SIGKILL pass missed children was logged. */
  private warnedHidden = false;
  /** The terminal foreground group to give back on exit (docs/decisions.md, "Terminal"). */
  private restoreForeground: { fd: number; pgid: number } | null = null;
  /** TIOCNOTTY as a session leader makes the kernel send us SIGHUP and SIGCONT: not the child's. */
  private swallowHangup = false;
  /** --pdeathsig: the parent died before PR_SET_PDEATHSIG was in place. */
  private missedDeathSignal: SignalName | null = null;
  /**
   * --drain-delay: null until the first SIGTERM; then that SIGTERM, held while the child
   * keeps serving (as what it will be forwarded as, after --rewrite); 'over' once it
   * was forwarded (a later SIGTERM is forwarded at once).
   */
  private drainDelay: HeldSigterm | 'over' | null = null;
  private resolve: (code: number) => void = () => {};

  constructor(
    private readonly kernel: Kernel,
    private readonly config: Config,
    logger: Logger,
    private readonly options: InitOptions,
  ) {
    this.log = logger.child({ component: 'init' });
    this.debug = this.log.isLevelEnabled('debug');
  }

  /** Where the run is (the phases at the top of this file), from the state that decides it. */
  private get phase(): Phase {
    if (this.finished) return 'done';
    if (this.drain !== null) return 'draining';
    return this.child === null ? 'starting' : 'running';
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

  /**
   * Set up and spawn, one step per line, in the order they must happen. Returns an exit
   * code when there is nothing to supervise (the command could not be executed).
   */
  private start(): number | null {
    const self = this.identify();
    this.becomeSubreaper();
    this.armParentDeathSignal();
    this.receiveSignals();
    const command = this.commandRequest(self);
    const spawned = this.spawnChild(command);
    if ('exitCode' in spawned) return spawned.exitCode;
    this.child = spawned;
    this.log.info({ child: spawned.pid, command: this.config.command }, 'started child');
    // The child inherited pidone's cwd and oom_score_adj at fork; now change pidone's own.
    this.releaseCwd();
    this.lowerOomScoreAdj();
    this.openChildPidfd(spawned);
    this.replayMissedDeathSignal();
    // The child may have exited before the signal watch saw its SIGCHLD.
    this.reapPass();
    return null;
  }

  /** Who pidone is: its pid, and whether it is the init of its PID namespace. */
  private identify(): ProcessIdentity {
    const self = this.kernel.self();
    this.selfPid = self.pid;
    // pid_namespaces(7): the first process in a namespace has pid 1 there and is its init.
    this.isNamespaceInit = self.pid === 1;
    return self;
  }

  /**
   * Every catchable signal is already caught (the Kernel installs its handlers when it
   * is created); from here on they are delivered to the policy.
   */
  private receiveSignals(): void {
    this.kernel.onSignal((batch) => this.guard('signal batch', () => this.onSignals(batch)));
  }

  /**
   * What to spawn: the command, the child's environment, the fds it inherits, LISTEN_PID
   * when the fds are the child's, and the terminal when it is to take it.
   */
  private commandRequest(self: ProcessIdentity): SpawnRequest {
    const [file, ...rest] = this.config.command;
    const env = [...this.options.env];
    const inheritFds = this.kernel.inheritedFds();
    const terminal = this.prepareTerminal(self);
    return {
      file: file!,
      args: [file!, ...rest],
      env,
      setsid: this.config.setsid,
      inheritFds,
      ...(listenFdsAreFor(env, self.pid) ? { envPidVar: 'LISTEN_PID' } : {}),
      ...(terminal !== undefined ? { foregroundTty: terminal } : {}),
    };
  }

  /**
   * Spawn the command, or with --pid-ns the inner pidone that runs it as init of a new
   * PID namespace. A command that cannot be executed is reported here, and gives the
   * exit code; any other failure is thrown, to startFailure.
   */
  private spawnChild(command: SpawnRequest): Spawned | { readonly exitCode: number } {
    const inner = this.options.namespaceInit;
    try {
      return inner
        ? this.kernel.spawn({
            file: inner.command[0]!,
            args: inner.command,
            env: inner.env,
            setsid: false,
            inheritFds: command.inheritFds,
            namespaces: { pid: true, mount: true, user: this.kernel.geteuid() !== 0 },
            namespaceChild: command,
          })
        : this.kernel.spawn(command);
    } catch (error) {
      this.restoreForeground = null;
      if (error instanceof KernelError && error.syscall === 'execve') {
        return this.reportExecFailure(command.file, error.code);
      }
      if (error instanceof NamespaceRefusedError) {
        throw new SetupError(
          `pidone: --pid-ns: the kernel refused a new PID namespace (${error.syscall}: ${strerror(error.code)}); ${error.hint}`,
        );
      }
      throw error;
    }
  }

  /** One line (the compat mode's own, or pidone's), and the exit code it comes with. */
  private reportExecFailure(file: string, code: Errno): ExecFailure {
    const report = (this.options.execFailure ?? pidoneExecFailure)(file, code);
    this.reportError(report.line);
    return report;
  }

  /** A pidfd on the child, so that signalling it alone never hits a recycled pid. */
  private openChildPidfd(child: Spawned): void {
    try {
      this.pidfd = this.kernel.pidfdOpen(child.pid);
    } catch (error) {
      // The child may already be gone (and is then a zombie until reaped: ESRCH
      // cannot happen before the reap, but be safe); fall back to kill(2).
      this.log.debug({ child: child.pid, err: String(error) }, 'pidfd_open failed; signalling by pid');
    }
  }

  /** --pdeathsig: a parent that died before the signal was armed sent nothing; act as if it had. */
  private replayMissedDeathSignal(): void {
    if (this.missedDeathSignal === null) return;
    this.log.info({ signal: this.missedDeathSignal }, 'parent died before --pdeathsig was set; acting as if the signal came');
    this.onSignal(this.missedDeathSignal);
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
    else this.drainStep();
  }

  private onSignal(received: SignalName): void {
    const signal = rewriteSignal(this.config.rewrite, received);
    // Hot paths (every signal, every reap) build their log fields only when debug is on:
    // nothing allocated per event beyond what the work needs (docs/performance.md).
    if (this.debug) this.log.debug({ signal: received, ...(signal !== received ? { rewrittenTo: signal } : {}) }, 'received signal');
    if (this.drain !== null) {
      if (signal === null) return;
      if (this.drain.escalation === 'term' && (signal === 'SIGTERM' || signal === 'SIGINT')) {
        this.log.info({ signal }, 'second shutdown signal during the grace period: killing what remains now');
        this.escalate();
        return;
      }
      this.signalDescendants([signal]);
      return;
    }
    if (this.heldSigterm() !== null) {
      if (this.interruptDrainDelay(received)) return;
    } else if (this.drainDelay === null && received === 'SIGTERM' && signal !== null && this.config.drainDelayMs > 0 && this.phase === 'running') {
      this.beginDrainDelay(signal);
      return;
    }
    if (signal !== null) this.forward(signal);
    if (this.config.stopWithChild && JOB_CONTROL_STOP_SIGNALS.includes(received)) {
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

  // ---- drain delay ----------------------------------------------------------------

  /*
   * An orchestrator sends SIGTERM as it starts taking the container out of its load
   * balancers, and that change takes seconds to reach every one of them: a server that
   * stops accepting at once drops the requests still sent its way. --drain-delay holds
   * the first SIGTERM that long, the child serving meanwhile. Whatever asks for the
   * end with more insistence (a second SIGTERM, or SIGINT or SIGQUIT, which a person at
   * a terminal sends) ends the wait at once; every other signal passes as usual.
   */

  /** The SIGTERM the drain delay holds now, or null. */
  private heldSigterm(): HeldSigterm | null {
    return this.drainDelay === 'over' ? null : this.drainDelay;
  }

  /**
   * The drain delay is over, whatever ended it: a later SIGTERM is forwarded at once.
   * Returns the SIGTERM that was held (its timer cancelled), or null when none was.
   */
  private releaseHeldSigterm(): HeldSigterm | null {
    const held = this.heldSigterm();
    this.drainDelay = 'over';
    held?.timer.cancel();
    return held;
  }

  private beginDrainDelay(signal: SignalName): void {
    const ms = this.config.drainDelayMs;
    this.drainDelay = {
      signal,
      since: this.kernel.now(),
      timer: this.kernel.setTimer(ms, () => this.guard('drain delay', () => this.endDrainDelay('timer'))),
    };
    this.log.info(
      { signal: 'SIGTERM', ...(signal !== 'SIGTERM' ? { rewrittenTo: signal } : {}), delay: formatDuration(ms), child: this.child?.pid },
      `drain delay: forwarding SIGTERM to the child in ${formatDuration(ms)}; a second SIGTERM, or SIGINT or SIGQUIT, forwards it at once`,
    );
  }

  /**
   * A signal during the drain delay. A second SIGTERM forwards the held one at once
   * (and is that one: the child sees a single SIGTERM, its graceful shutdown, not a
   * second that many servers read as "quit now"); SIGINT and SIGQUIT forward the held
   * SIGTERM and then themselves. True when the signal needs no forwarding of its own.
   */
  private interruptDrainDelay(received: SignalName): boolean {
    if (received !== 'SIGTERM' && received !== 'SIGINT' && received !== 'SIGQUIT') return false;
    this.endDrainDelay(received);
    return received === 'SIGTERM';
  }

  /** Forward the held SIGTERM: its delay is over, or `by` cut it short. */
  private endDrainDelay(by: 'timer' | SignalName): void {
    const held = this.releaseHeldSigterm();
    if (held === null) return;
    const heldFor = formatDuration(Math.round(this.kernel.now() - held.since));
    if (by === 'timer') this.log.info({ signal: held.signal, heldFor }, 'drain delay over: forwarding SIGTERM');
    else this.log.info({ signal: held.signal, by, heldFor }, `${by} during the drain delay: forwarding SIGTERM now`);
    this.forward(held.signal);
  }

  /**
   * The main child exited while its SIGTERM was held: the delay ends and the drain
   * begins. What is left of the child's group still gets the SIGTERM it was owed,
   * unless the drain is about to send it one anyway (--remaining kill signals all that
   * remains; dumb-init's mode signals the group), which would make it a second.
   */
  private cancelDrainDelayOnExit(): void {
    const held = this.releaseHeldSigterm();
    if (held === null) return;
    this.log.info({ signal: held.signal }, 'the child exited during the drain delay: the delay ends');
    if (this.config.remaining !== 'kill' && !this.config.termGroupOnExit) this.forward(held.signal);
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
    this.drainStep(noChildren);
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
    // abort() began the drain while the child ran: the exit code is abort's.
    if (this.drain !== null) {
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
    this.cancelDrainDelayOnExit();
    // dumb-init sends one SIGTERM (through its rewrite table) to what is left of the
    // child's group, then exits.
    if (this.config.termGroupOnExit) {
      const signal = rewriteSignal(this.config.rewrite, 'SIGTERM');
      if (signal !== null) this.forward(signal);
    }
    this.beginDrain();
  }

  // ---- what remains ---------------------------------------------------------------

  /** The main child has exited: deal with its descendants per --remaining. */
  private beginDrain(): void {
    const policy = this.config.remaining;
    if (policy === 'leave') {
      this.finish(this.exitCode);
      return;
    }
    const drain = this.startDraining();
    // Whatever remains is a child of pidone or a descendant of one (orphans come back
    // to pidone), so waitpid's ECHILD says that nothing remains, with or without /proc.
    this.drainStep();
    if (this.drain !== drain) return;
    const descendants = this.countDescendants();
    const counted = descendants === undefined ? {} : { descendants };
    if (policy === 'wait') {
      this.log.info(counted, 'child exited; waiting for the processes that remain');
      return;
    }
    this.log.info({ ...counted, grace: formatDuration(this.config.graceMs) }, 'child exited; sending SIGTERM to what remains');
    this.termRound(drain, descendants);
  }

  /** Enter `draining`: nothing sent, nothing counted yet. */
  private startDraining(): Drain {
    this.drain = { escalation: 'none', timer: null, termPass: null, aliveAtTerm: null, aliveAtKill: null, abortCode: null, scanToLimit: false };
    return this.drain;
  }

  /**
   * SIGTERM to every descendant, then the grace period before SIGKILL: the `kill`
   * policy's first round, and abort()'s. SIGCONT goes with it, in the same pass: a
   * stopped process cannot act on SIGTERM until it runs (systemd.kill(5) does the same).
   * `descendants`: countDescendants() just before, where it can count.
   */
  private termRound(drain: Drain, descendants: number | undefined): void {
    drain.escalation = 'term';
    if (descendants !== undefined) drain.aliveAtTerm ??= descendants;
    drain.termPass = this.signalDescendants(['SIGTERM', 'SIGCONT'], (signalled) => {
      if (signalled !== null) drain.aliveAtTerm ??= signalled;
    });
    if (this.config.graceMs === 0) this.escalate();
    else drain.timer = this.kernel.setTimer(this.config.graceMs, () => this.guard('grace timer', () => this.escalate()));
  }

  /** The grace period is over (or a second SIGTERM came): SIGKILL rounds until nothing remains. */
  private escalate(): void {
    const drain = this.drain;
    if (drain === null || drain.escalation === 'kill') return;
    drain.timer?.cancel();
    drain.timer = null;
    drain.escalation = 'kill';
    // Overtaken before it was done: what it reached so far is all that was counted.
    if (drain.termPass !== null) drain.aliveAtTerm ??= drain.termPass.signalled;
    drain.termPass = null;
    // SIGKILL overtakes every pass still under way (the SIGTERM one, forwarded signals).
    this.cancelPasses();
    const descendants = this.countDescendants();
    if (descendants !== undefined) drain.aliveAtKill = descendants;
    this.log.info(descendants === undefined ? {} : { descendants }, 'grace period over: sending SIGKILL to what remains');
    this.killRound();
  }

  /** One SIGKILL round; repeats on a short timer, once its pass is done, while anything remains. */
  private killRound(): void {
    const drain = this.drain;
    if (drain === null) return;
    drain.timer = null;
    this.signalDescendants(['SIGKILL'], (signalled) => {
      if (signalled !== null) drain.aliveAtKill ??= signalled;
      this.drainStep();
      if (this.drain !== drain) return;
      // Children remain that the pass did not find (a children file that missed them,
      // pids above a lowered pid_max): the next pass looks for them with waitid everywhere.
      drain.scanToLimit = signalled === 0;
      if (drain.scanToLimit && !this.warnedHidden) {
        this.warnedHidden = true;
        this.log.warn({ pidMax: PID_MAX_LIMIT }, 'children remain that the last pass did not find: looking for them with waitid up to the largest pid');
      }
      drain.timer = this.kernel.setTimer(KILL_ROUND_MS, () => this.guard('kill round', () => this.killRound()));
    });
  }

  /** After a reap while draining: stop once pidone has no child left. */
  private drainStep(noChildren?: boolean): void {
    const drain = this.drain;
    if (drain === null) return;
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
        orphansReaped: this.orphansReaped,
        aliveAtTerm: drain.aliveAtTerm ?? 0,
        aliveAtKill: drain.aliveAtKill ?? 0,
        escalation: drain.escalation,
      },
      'nothing remains; exiting',
    );
    this.finish(this.exitCode);
  }

  /** pidone's descendants, each with the parent it was found under. */
  private descendants(): Array<{ pid: number; parent: number }> {
    return walkDescendants((pid) => this.kernel.listChildren(pid), this.selfPid);
  }

  /**
   * How many descendants there are, for the logs, where counting is not the work itself:
   * as PID 1 (which signals with one kill(-1)) with its own /proc. A subreaper counts
   * what its passes signal instead; without its own /proc nothing can count.
   */
  private countDescendants(): number | undefined {
    if (!this.isNamespaceInit || this.kernel.procView() !== 'own') return undefined;
    return this.descendants().length;
  }

  /**
   * Signal every descendant. As PID 1 of its own namespace that is kill(-1), which
   * spares the caller (kill(2)) and needs no /proc. As a subreaper kill(-1) would hit
   * the whole host, so each descendant is signalled on its own, through a pidfd checked
   * to still be the process found: a pass (startPass) that works in slices on the event
   * loop. `onDone` runs when every process found was signalled, with how many that were
   * (null for kill(-1), which does not count). Returns the pass while it is under way.
   */
  private signalDescendants(signals: readonly SignalName[], onDone?: (signalled: number | null) => void): Pass | null {
    if (this.isNamespaceInit) {
      for (const signal of signals) {
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
    return this.startPass(signals, onDone);
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
    const view = this.drain?.scanToLimit ? 'forced' : this.kernel.procView();
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
    if (this.drain === null || !this.passes.has(pass)) return;
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
    if (this.drain !== null && this.drain.abortCode !== null) {
      this.finish(exitCode);
      return;
    }
    // The abort's own SIGTERM goes to everything at once: nothing is held any longer.
    this.releaseHeldSigterm();
    const drain = this.drain ?? this.startDraining();
    drain.abortCode = exitCode;
    drain.timer?.cancel();
    drain.timer = null;
    this.termRound(drain, this.countDescendants());
    this.drainStep();
  }

  private finish(code: number): void {
    if (this.phase === 'done') return;
    const drain = this.drain;
    this.drain = null;
    this.finished = true;
    drain?.timer?.cancel();
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
    this.resolve(drain?.abortCode ?? code);
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
