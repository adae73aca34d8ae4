/**
 * The simulated kernel, answering like the puppet runner does.
 *
 * The world mirrors the real set-up: the coordinator is PID 1 of its own namespace
 * (the runner runs under unshare --pid --fork) and leads its own session (the runner
 * calls setsid), and forks p1 with CLONE_NEWPID. So the coordinator is a namespace
 * init too: a kill(0) from p1, which reaches the coordinator's group, leaves it alone
 * on both sides. "Outer" numbers are those of the coordinator's namespace, as the
 * runner's /proc shows them. Every actor runs
 * the program [pause]; a step is given to it with SimKernel.perform(), followed by a
 * note that marks the step done (the puppet's reply), and sim.run() plays everything
 * that follows at that virtual instant: the simulator's "settled". The reply, the
 * hellos of new actors and the caught signals are read back from the trace; the
 * process table from the world.
 */
import { SimKernel, type Step as SimStep } from '../../src/kernel/sim/index.js';
import { SI_CODES, type SiCode } from '../../src/kernel/sim/pending-signals.js';
import type { Pid } from '../../src/kernel/sim/pid.js';
import type { PidNamespace } from '../../src/kernel/sim/pid-namespace.js';
import type { Proc, Thread } from '../../src/kernel/sim/process.js';
import type { TraceEvent } from '../../src/kernel/sim/trace.js';
import { asSignalName, signalName, signalNumber, type SignalName } from '../../src/signals.js';
import type { RawAnswer, RawHello, RawProc, RawReply, Side } from './protocol.js';
import { namespacePidMax } from './player.js';
import { OP } from './script.js';

interface Pending {
  readonly seq: number;
  readonly op: number;
  readonly a: number;
  /** Trace index when the step was given. */
  readonly start: number;
  /** The step failed outside the simulated kernel (a sysctl write): this errno. */
  readonly errno?: string;
  /** fork: the child, once its fork event was seen (a vfork child says hello before its parent replies). */
  readonly child?: Proc;
}

const DONE = 'differential: step done ';

function sig(n: number): SignalName | 'SIG0' {
  return n === 0 ? 'SIG0' : signalName(n);
}

/** describeExit() text back to a wait(2) status word. */
function statusWord(text: string): number {
  if (text === 'continued') return 0xffff;
  const stopped = /^stopped (\S+)$/.exec(text);
  if (stopped) return (signalNumber(asSignalName(stopped[1]!)) << 8) | 0x7f;
  const exited = /^exit (\d+)$/.exec(text);
  if (exited) return (Number(exited[1]) & 0xff) << 8;
  const [name, core] = text.split(' ');
  return signalNumber(asSignalName(name!)) | (core === '(core)' ? 0x80 : 0);
}

export class SimSide implements Side {
  readonly name = 'sim';
  private sim!: SimKernel;
  private coord!: Proc;
  /** Actor index -> the thread that runs its steps. */
  private actors = new Map<number, Thread>();
  private pending = new Map<number, Pending>();
  /** The actor whose handler writes a process's caught signals (the puppet's main_actor). */
  private mainActor = new Map<Proc, number>();
  /** Actors whose thread was ended by another thread's exec (de_thread). */
  private gone = new Set<number>();
  /**
   * The puppet's SIGCHLD record of each process: si_code, si_pid, si_status of every
   * SIGCHLD its handler caught since the last chldlog step (empty in a new process and
   * after exec, as the puppet's memory is).
   */
  private chldLog = new Map<Proc, number[][]>();
  private seen = 0;
  private outerNs!: PidNamespace;

  constructor(private readonly options: { pidMax?: number } = {}) {}

  private get world() {
    return this.sim.world;
  }

  async begin(): Promise<RawAnswer> {
    this.sim = new SimKernel({
      mode: 'subreaper',
      autoRun: false,
      programs: { actor: [{ pause: true }] },
      pidMax: this.options.pidMax ?? namespacePidMax(),
    });
    this.actors = new Map();
    this.pending = new Map();
    this.mainActor = new Map();
    this.gone = new Set();
    this.chldLog = new Map();
    const coordPid = this.sim.spawnProcess({ program: [{ setsid: true }, { pause: true }], parent: 1, name: 'coord', newPidNs: true });
    this.sim.run();
    this.coord = this.world.findProc(coordPid, this.world.rootNs)!;
    this.outerNs = this.coord.ns;
    this.seen = this.sim.events.length;
    this.sim.perform(coordPid, [{ fork: 'actor', as: 'a0', exec: false, newPidNs: true }]);
    this.sim.run();
    const p1 = this.coord.lastChild!;
    this.actors.set(0, p1.leader);
    this.mainActor.set(p1, 0);
    const answer = this.collect();
    return { ...answer, coord: this.outer(this.coord.tgid), hellos: [this.hello(0, p1.leader)] };
  }

  async step(seq: number, actor: number, op: number, a: number, b: number, c: number): Promise<RawAnswer> {
    const thread = this.actors.get(actor);
    if (thread === undefined) throw new Error(`sim: no actor ${actor}`);
    this.pending.set(actor, { seq, op, a, start: this.sim.events.length });
    if (this.gone.has(actor)) {
      // An actor whose thread another thread's exec ended: its command pipe has no
      // reader any more, so the step never answers.
      this.sim.run();
      return this.collect();
    }
    let steps: SimStep[] = [];
    if (op === OP.lastpid) {
      // Writing ns_last_pid (pid_ns_ctl_handler): proc_dointvec_minmax refuses a value
      // outside [0, pid_max] with EINVAL; otherwise idr_set_cursor(&ns->idr, last + 1)
      // in the writer's namespace.
      const ns = thread.proc.ns;
      if (a < 0 || a > ns.pidMax) this.pending.set(actor, { ...this.pending.get(actor)!, errno: 'EINVAL' });
      else ns.cursor = a + 1;
    } else {
      steps = this.toSteps(op, a, b, actor, c);
    }
    this.sim.perform(thread.proc.tgid.nr(), [...steps, { note: `${DONE}${seq}` }], { tid: thread.pid.nr() });
    this.sim.run();
    return this.collect();
  }

  async end(): Promise<void> {}

  // ---- for the generator (generator.ts): what would be a race on Linux ---------------

  /** The process an actor runs in, or null. */
  procOf(actor: number): Proc | null {
    const t = this.actors.get(actor);
    return t === undefined || this.gone.has(actor) ? null : t.proc;
  }

  /** Is `nr`, in the process's namespace, the tid of one of its own non-leader threads? */
  isOwnThread(proc: Proc, nr: number): boolean {
    return proc.threads.some((t) => t !== proc.leader && t.pid.nrNs(proc.ns) === nr);
  }

  /** Does some thread of the process sit in a blocking wait? */
  hasBlockedWait(proc: Proc): boolean {
    return proc.threads.some((t) => t.block?.kind === 'wait');
  }

  /** The namespace init of the process's namespace, if it is not the process itself. */
  initOf(proc: Proc): Proc | null {
    const init = proc.ns.childReaper;
    return init === proc ? null : init;
  }

  /**
   * What the next step could make racy, taken before it: processes with a blocked wait,
   * and multi-threaded processes whose children are on more than one thread's list or
   * have a parent-death signal (when such a process dies or execs, its threads hand
   * their children over concurrently on Linux).
   */
  riskBefore(): {
    readonly start: number;
    readonly waiting: ReadonlySet<number>;
    readonly threadedParents: ReadonlySet<number>;
    readonly autoreapers: ReadonlyMap<number, ReadonlySet<number>>;
  } {
    const waiting = new Set<number>();
    const threadedParents = new Set<number>();
    const autoreapers = new Map<number, Set<number>>();
    for (const p of this.world.procs) {
      if (this.hasBlockedWait(p)) waiting.add(p.tgid.nr());
      const d = p.disposition('SIGCHLD');
      if ((d.kind === 'ignore' || d.noCldWait === true) && p.ns.childReaper !== p && p.children.length > 0) {
        autoreapers.set(p.tgid.nr(), new Set(p.children.map((c) => c.tgid.nr())));
      }
      if (p.threads.length < 2 || p.children.length === 0) continue;
      const lists = new Set(p.children.map((c) => c.parentThread));
      const pdeath = p.children.some((c) => c.leader.pdeathSignal !== null || c.threads.some((t) => t.pdeathSignal !== null));
      if (lists.size > 1 || pdeath) threadedParents.add(p.tgid.nr());
    }
    return { start: this.sim.events.length, waiting, threadedParents, autoreapers };
  }

  /**
   * Was the step just played a race on Linux? Two children of a process that was
   * blocked in wait died in it (which one the wait returns, or whether it saw one
   * before the other, depends on timing); a multi-threaded parent from riskBefore()
   * died or exec'd in it; or a parent that autoreaps (SIGCHLD ignored, SA_NOCLDWAIT)
   * died in it with one of its children (the child is autoreaped if it dies first, a
   * zombie of its new parent otherwise).
   */
  racy(before: ReturnType<SimSide['riskBefore']>): boolean {
    const window = this.sim.events.slice(before.start);
    const deaths = new Map<number, number>();
    const exited = new Set(window.filter((e) => e.event === 'exit').map((e) => e.pid));
    for (const [parent, children] of before.autoreapers) {
      if (exited.has(parent) && [...children].some((c) => exited.has(c))) return true;
    }
    for (const e of window) {
      if (e.event === 'zombie') {
        const parent = Number(e.details['parent']);
        if (before.waiting.has(parent)) deaths.set(parent, (deaths.get(parent) ?? 0) + 1);
      }
      if ((e.event === 'exit' || e.event === 'exec') && before.threadedParents.has(e.pid)) return true;
    }
    return [...deaths.values()].some((n) => n > 1);
  }

  /**
   * Would the runner's end of scenario leave p1 stuck? It moves p1 into a group of its
   * own (setpgid, refused once p1 has exec'd) and SIGKILLs it; p1 dies only when no
   * other number of its namespace is allocated (zap_pid_ns_processes), and a dying init
   * held by a group id of its namespace that nobody can move it out of holds its own
   * pid for good. Played on the simulator, which models that rule; true when p1 would
   * not become a zombie (the real one would stay until reboot).
   */
  teardownStuck(): boolean {
    const p1 = this.actors.get(0)?.proc;
    if (p1 === undefined) return false;
    try {
      const nr = p1.tgid.nrNs(this.outerNs);
      const coordPid = this.coord.tgid.nr();
      if (p1.live) {
        this.sim.perform(coordPid, [{ setpgid: { pid: nr, pgid: nr } }, { kill: nr, signal: 'SIGKILL' }]);
        this.sim.run();
      }
      return p1.state === 'exiting' || p1.state === 'running' || p1.state === 'stopped';
    } catch {
      return true;
    }
  }

  async close(): Promise<void> {}

  private toSteps(op: number, a: number, b: number, actor: number, c = 0): SimStep[] {
    switch (op) {
      case OP.fork:
        return [
          {
            fork: 'actor',
            as: `a${a}`,
            exec: false,
            newPidNs: (b & 1) !== 0,
            ...((b & 2) !== 0 ? { cloneParent: true } : {}),
            ...((b & 4) !== 0 ? { setTid: [c] } : {}),
            ...((b & 8) !== 0 ? { vfork: true } : {}),
          },
        ];
      case OP.exit:
        return [{ exit: a }];
      case OP.threadexit:
        return [{ threadExit: a }];
      case OP.setsid:
        return [{ setsid: true }];
      case OP.setpgid:
        return [{ setpgid: { pid: a, pgid: b } }];
      case OP.kill:
        return [{ kill: a, signal: sig(b) }];
      case OP.trap:
        return [{ on: signalName(a), do: 'record', ...((b & 1) !== 0 ? { restart: false } : {}), ...((b & 2) !== 0 ? { noCldStop: true } : {}) }];
      case OP.ignore:
        return [{ ignore: signalName(a) }];
      case OP.default:
        return [{ default: signalName(a) }];
      case OP.wait:
        return [{ wait: a, nohang: (b & 1) !== 0, untraced: (b & 2) !== 0, continued: (b & 4) !== 0 }];
      case OP.waitid:
        return [
          {
            wait: b,
            idtype: a === 0 ? 'all' : a === 1 ? 'pid' : 'pgid',
            nohang: (c & 1) !== 0,
            untraced: (c & 2) !== 0,
            continued: (c & 4) !== 0,
            exited: (c & 8) !== 0,
            nowait: (c & 16) !== 0,
          },
        ];
      case OP.setns:
        return [{ setns: a }];
      case OP.tgkill:
        return [{ tgkill: { tgid: a, tid: b }, signal: sig(c) }];
      case OP.subreaper:
        return [{ subreaper: a !== 0 }];
      case OP.unshare:
        return [{ unshare: 'pid' }];
      case OP.thread:
        return [{ thread: [{ pause: true }] }];
      case OP.report:
        return [{ report: `a${actor}` }];
      case OP.chldlog:
        return [];
      case OP.pdeathsig:
        return [{ pdeathsig: signalName(a) }];
      case OP.exec:
        return [{ exec: 'actor' }];
      case OP.nocldwait:
        return [a !== 0 ? { on: 'SIGCHLD', do: 'record', noCldWait: true } : { default: 'SIGCHLD', noCldWait: true }];
      default:
        throw new Error(`sim: unknown op ${op}`);
    }
  }

  private hello(actor: number, thread: Thread): RawHello {
    const p = thread.proc;
    const ns = p.ns;
    return {
      actor,
      pid: p.tgid.nrNs(ns),
      tid: thread.pid.nrNs(ns),
      ppid: p.parent?.tgid.nrNs(ns) ?? 0,
      pgid: p.pgrp.nrNs(ns),
      sid: p.session.nrNs(ns),
      nspid: p.tgid.numbers.slice(this.outerNs.level).map((u) => u.nr),
      nstid: thread.pid.numbers.slice(this.outerNs.level).map((u) => u.nr),
    };
  }

  /** The number the runner would see: in the coordinator's namespace. */
  private outer(pid: Pid): number {
    return pid.nrNs(this.outerNs);
  }

  private threadByRootTid(tid: number): Thread | null {
    return this.world.rootNs.find(tid)?.thread ?? null;
  }

  /**
   * The actor index the puppet's handler names: the process's first actor, or the
   * actor that exec'd it last (an exec'd image is started with the exec'ing actor's
   * index, whichever thread that was).
   */
  private mainActorOf(p: Proc): number {
    return this.mainActor.get(p) ?? -1;
  }

  /** Everything that happened since the last answer. */
  private collect(): RawAnswer {
    const events = this.sim.events;
    const fresh = events.slice(this.seen);
    this.seen = events.length;
    const hellos: RawHello[] = [];
    const replies: RawReply[] = [];
    const caught: Array<{ actor: number; signo: number }> = [];

    for (const e of fresh) {
      if (e.event === 'caught') {
        const proc = this.world.rootNs.find(Number(e.details['tgid']))?.tgidOf ?? null;
        const actor = proc ? this.mainActorOf(proc) : -1;
        if (actor >= 0) caught.push({ actor, signo: signalNumber(asSignalName(String(e.details['signal']))) });
        if (proc !== null && e.details['signal'] === 'SIGCHLD' && e.details['code'] !== undefined) {
          const log = this.chldLog.get(proc) ?? [];
          log.push([SI_CODES[e.details['code'] as SiCode], Number(e.details['from']), Number(e.details['status'] ?? 0)]);
          this.chldLog.set(proc, log);
        }
        continue;
      }
      if (e.event === 'exec') {
        const proc = this.world.rootNs.find(e.pid)?.tgidOf;
        if (proc) this.chldLog.delete(proc);
      }
      if (e.event === 'fork') {
        // The child is an actor from its fork on: it says hello at once, while a vfork
        // parent has not replied yet.
        for (const [actor, p] of this.pending) {
          if (p.op !== OP.fork || p.child !== undefined || this.actors.get(actor)!.pid.nr() !== e.details['forker']) continue;
          const child = this.world.findProc(e.pid, this.world.rootNs);
          if (child === null) continue;
          this.pending.set(actor, { ...p, child });
          this.actors.set(p.a, child.leader);
          this.mainActor.set(child, p.a);
          hellos.push(this.hello(p.a, child.leader));
        }
      }
      for (const [actor, p] of [...this.pending]) {
        const thread = this.actors.get(actor)!;
        const proc = thread.proc;
        if (p.op === OP.exec && e.pid === proc.tgid.nr() && e.event === 'exec') {
          this.pending.delete(actor);
          // de_thread(): the exec'ing thread takes over the leader's pid; every other
          // actor of the process is gone.
          for (const [other, t] of this.actors) if (other !== actor && t.proc === proc) this.gone.add(other);
          this.actors.set(actor, proc.leader);
          this.mainActor.set(proc, actor);
          hellos.push(this.hello(actor, proc.leader));
        } else if (e.event === 'note' && e.details['text'] === `${DONE}${p.seq}`) {
          this.pending.delete(actor);
          replies.push(this.reply(actor, p, events.slice(p.start, e.seq), hellos));
        }
      }
    }
    // Steps that ended the actor (exit, a fatal signal) never finish: forget them.
    for (const [actor] of this.pending) {
      const t = this.actors.get(actor)!;
      if (t.state !== 'alive') this.pending.delete(actor);
    }
    return { hellos, replies, caught, procs: this.table() };
  }

  private reply(actor: number, p: Pending, window: readonly TraceEvent[], hellos: RawHello[]): RawReply {
    const thread = this.actors.get(actor)!;
    const proc = thread.proc;
    const ns = proc.ns;
    // The calling thread's own events: another thread of the process may be waiting
    // (or failing) in the same window.
    const mine = window.filter((e) => e.pid === thread.pid.nr());
    const error = mine.find((e) => e.event === 'error');
    const base = { actor, seq: p.seq };
    if (p.errno !== undefined) return { ...base, errno: p.errno, values: [] };
    if (error !== undefined) return { ...base, errno: String(error.details['errno']), values: [] };
    switch (p.op) {
      case OP.fork: {
        const child = p.child;
        if (child === undefined) return { ...base, errno: 'E?', values: [] };
        return { ...base, errno: null, values: [child.tgid.nrNs(ns)] };
      }
      case OP.thread: {
        const created = window.find((e) => e.event === 'thread' && e.details['tgid'] === proc.tgid.nr());
        const t = created ? this.threadByRootTid(created.pid) : null;
        if (t === null) return { ...base, errno: 'E?', values: [] };
        this.actors.set(p.a, t);
        hellos.push(this.hello(p.a, t));
        return { ...base, errno: null, values: [] };
      }
      case OP.setsid:
        return { ...base, errno: null, values: [proc.session.nrNs(ns)] };
      case OP.wait:
      case OP.waitid: {
        const waited = mine.find((e) => e.event === 'waited');
        if (waited === undefined) return { ...base, errno: 'E?', values: [] };
        const child = Number(waited.details['child']);
        return { ...base, errno: null, values: child === 0 ? [0, 0] : [child, statusWord(String(waited.details['status']))] };
      }
      case OP.chldlog: {
        // The puppet keeps at most 16 entries and says how many there were.
        const log = this.chldLog.get(proc) ?? [];
        this.chldLog.delete(proc);
        return { ...base, errno: null, values: [log.length, ...log.slice(0, 16).flat()] };
      }
      case OP.report: {
        const r = mine.find((e) => e.event === 'report');
        if (r === undefined) return { ...base, errno: 'E?', values: [] };
        const d = r.details;
        return { ...base, errno: null, values: [d['getpid'], d['gettid'], d['getppid'], d['getpgrp'], d['getsid']].map(Number) };
      }
      default:
        return { ...base, errno: null, values: [] };
    }
  }

  /** The process table as /proc would show it from the coordinator's namespace. */
  private table(): RawProc[] {
    const rows: RawProc[] = [];
    for (const p of this.world.procs) {
      if (p.tgid.level <= this.outerNs.level) continue;
      const stopped = p.state === 'stopped';
      // 'exiting' is a namespace init waiting in zap_pid_ns_processes (the runner shows E).
      const leaderState =
        p.state === 'exiting' ? 'E' : p.state === 'zombie' || p.leader.state === 'exited' ? 'Z' : stopped ? 'T' : p.state === 'running' ? 'S' : `?${p.state}`;
      const tasks = [{ tid: this.outer(p.tgid), state: leaderState }];
      for (const t of p.threads) if (t !== p.leader) tasks.push({ tid: this.outer(t.pid), state: stopped ? 'T' : 'S' });
      const row: RawProc = {
        pid: this.outer(p.tgid),
        ppid: p.parent ? this.outer(p.parent.tgid) : 0,
        pgid: this.outer(p.pgrp),
        sid: this.outer(p.session),
        tasks,
      };
      const s = p.status;
      if (p.parent === this.coord && p.state === 'zombie' && s !== null) {
        rows.push({ ...row, status: s.kind === 'exited' ? `exit:${s.code}` : `${s.core ? 'core' : 'sig'}:${signalNumber(s.signal)}` });
      } else {
        rows.push(row);
      }
    }
    return rows;
  }
}
