/**
 * The simulated machine: the namespaces, every process, the clock, the trace, the
 * program table and the scheduler's queues. The modules beside this one are the
 * kernel paths that change it (fork.ts, exit.ts, reparent.ts, groups.ts,
 * signal-delivery.ts); this file holds the state and the small lookups they share
 * (find_task_by_pid_ns, attach_pid/detach_pid).
 */
import { VirtualClock } from './clock.js';
import { freePid, PidNamespace } from './pid-namespace.js';
import type { Pid } from './pid.js';
import type { Proc, Thread } from './process.js';
import type { ProgramDef } from './programs.js';
import { simAssert } from './sim-bug.js';
import { Trace, type TraceDetail, type TraceKind } from './trace.js';

export interface WorldOptions {
  /** /proc/sys/kernel/pid_max for every namespace (default 32768). */
  readonly pidMax: number;
  /**
   * Whether a core-dumping signal sets WCOREDUMP. Off by default: with RLIMIT_CORE 0
   * (the usual soft limit) the kernel writes no core and does not set the flag.
   */
  readonly coreDumps: boolean;
}

export class World {
  readonly clock = new VirtualClock();
  readonly trace = new Trace(() => this.clock.now());
  readonly rootNs: PidNamespace;
  /** The task list (init_task.tasks): every process not yet released, in creation order. */
  readonly procs = new Set<Proc>();
  readonly programs = new Map<string, ProgramDef>();
  /** Threads with something to do now, in wake order. */
  readonly runQueue: Thread[] = [];
  /** Kernel work to finish outside the call that made it necessary (zap completion). */
  readonly kernelWork: Array<() => void> = [];
  /** The process whose Kernel calls the SimKernel methods are (pidone). */
  caller: Proc | null = null;
  private nsCount = 0;

  constructor(readonly options: WorldOptions) {
    this.rootNs = this.newNamespace(null);
  }

  newNamespace(parent: PidNamespace | null): PidNamespace {
    return new PidNamespace(this.nsCount++, parent, this.options.pidMax);
  }

  record(who: Proc | Thread | number, event: TraceKind, details: Record<string, TraceDetail> = {}): void {
    const pid = typeof who === 'number' ? who : 'proc' in who ? who.pid.nr() : who.tgid.nr();
    this.trace.record(pid, event, details);
  }

  /** Put a thread on the run queue (wake_up_process). */
  wake(thread: Thread): void {
    if (thread.state !== 'alive' || thread.queued) return;
    thread.queued = true;
    this.runQueue.push(thread);
  }

  wakeAll(proc: Proc): void {
    for (const t of proc.threads) this.wake(t);
  }

  /** find_task_by_pid_ns(nr, ns): the thread whose own pid is `nr` in `ns`. */
  findThread(nr: number, ns: PidNamespace): Thread | null {
    return ns.find(nr)?.thread ?? null;
  }

  /**
   * The process a pid number names in `ns`: the one it leads, or the one its thread
   * belongs to (kill(2) of a thread id signals the thread group). A leader that has
   * exited while its threads live still names its process.
   */
  findProc(nr: number, ns: PidNamespace): Proc | null {
    if (nr <= 0) return null;
    const pid = ns.find(nr);
    if (pid === undefined || pid === null) return null;
    return pid.tgidOf ?? pid.thread?.proc ?? null;
  }

  /** The leading processes of the group whose id is `nr` in `ns` (live and zombie). */
  findPgrp(nr: number, ns: PidNamespace): Pid | null {
    const pid = ns.find(nr);
    return pid && pid.isProcessGroup() ? pid : null;
  }

  /** pid_vnr() as `viewer` sees it (0 when not visible). */
  vnr(pid: Pid, viewer: Proc): number {
    return pid.nrNs(viewer.ns);
  }

  // ---- attach_pid / detach_pid for groups and sessions ------------------------------

  /** change_pid(p, PIDTYPE_PGID, pgrp). */
  changePgrp(proc: Proc, pgrp: Pid): void {
    const old = proc.pgrp;
    if (old === pgrp) return;
    old.pgrpOf.delete(proc);
    pgrp.pgrpOf.add(proc);
    proc.pgrp = pgrp;
    this.maybeFree(old);
  }

  /** change_pid(p, PIDTYPE_SID, session). */
  changeSession(proc: Proc, session: Pid): void {
    const old = proc.session;
    if (old === session) return;
    old.sessionOf.delete(proc);
    session.sessionOf.add(proc);
    proc.session = session;
    this.maybeFree(old);
  }

  /** __change_pid(): free the struct pid once no task is attached in any type. */
  maybeFree(pid: Pid): void {
    if (pid.freed || pid.hasTasks()) return;
    freePid(pid);
    for (const u of pid.numbers) {
      const ns = u.ns;
      // free_pid(): "case 2: case 1: wake_up_process(ns->child_reaper)" — a dying
      // init in zap_pid_ns_processes waits for its namespace to empty.
      if (ns.zapping) this.kernelWork.push(() => this.onZapProgress?.(ns));
    }
  }

  /** Continue a namespace init's exit once its namespace is empty (reparent.ts finishZapIfEmpty). */
  onZapProgress: ((ns: PidNamespace) => void) | null = null;
  /** Told when a thread group has exited (the SimKernel stops serving a dead pidone). */
  onProcessExit: ((proc: Proc) => void) | null = null;

  /** Every process that `viewer`'s namespace can see, in task-list order. */
  visibleFrom(ns: PidNamespace): Proc[] {
    return [...this.procs].filter((p) => p.tgid.nrNs(ns) !== 0);
  }

  program(name: string): ProgramDef | undefined {
    return this.programs.get(name);
  }

  assertCaller(): Proc {
    simAssert(this.caller !== null, 'no calling process');
    return this.caller;
  }
}
