/**
 * The trace: every state change in the simulated world, in order. Each event carries
 * the virtual time, the pid of the process it concerns as seen from the root
 * namespace (pid_nr()), what happened, and flat details. Two runs with the same
 * inputs produce the same trace, event for event.
 */
export type TraceDetail = string | number | boolean | null;

export interface TraceEvent {
  readonly seq: number;
  /** Virtual milliseconds. */
  readonly time: number;
  /** The process (or thread) concerned, by its number in the root namespace; 0 = the kernel. */
  readonly pid: number;
  readonly event: TraceKind;
  readonly details: Readonly<Record<string, TraceDetail>>;
}

/**
 * What can happen. Names follow the kernel path that does it where there is one.
 * - fork/exec/exec-failed, thread (clone(CLONE_THREAD)), unshare, ns-created,
 *   vfork-done (a vfork parent resumes: its child exec'd or exited)
 * - exit (the thread group starts exiting, with its status), thread-exit (one
 *   thread, exit(2)), zombie, reaped (wait4 by a parent), autoreaped (parent ignores
 *   SIGCHLD, or a dying namespace init collects it), released (struct pid numbers freed)
 * - reparented (forget_original_parent), ns-zap (zap_pid_ns_processes), ns-dead
 * - signal (sent), ignored (dropped at send or delivery, with the reason), caught
 *   (a scripted handler ran), batch (signals delivered to pidone's onSignal handler)
 * - stopped, continued, orphaned-pgrp (kill_orphaned_pgrp sent SIGHUP+SIGCONT)
 * - setsid, setpgid, subreaper, pdeathsig, waited, error (a scripted syscall failed)
 * - report (a process recorded its ids), note (a scenario or test annotation), log
 *   (a line pidone logged, when the CLI captures them)
 */
export type TraceKind =
  | 'fork'
  | 'vfork-done'
  | 'exec'
  | 'exec-failed'
  | 'thread'
  | 'unshare'
  | 'setns'
  | 'ns-created'
  | 'exit'
  | 'thread-exit'
  | 'zombie'
  | 'reaped'
  | 'autoreaped'
  | 'released'
  | 'reparented'
  | 'ns-zap'
  | 'ns-dead'
  | 'signal'
  | 'ignored'
  | 'caught'
  | 'batch'
  | 'stopped'
  | 'continued'
  | 'orphaned-pgrp'
  | 'setsid'
  | 'setpgid'
  | 'subreaper'
  | 'pdeathsig'
  | 'waited'
  | 'error'
  | 'report'
  | 'note'
  | 'log';

export class Trace {
  readonly events: TraceEvent[] = [];
  private readonly listeners: Array<(e: TraceEvent) => void> = [];

  constructor(private readonly now: () => number) {}

  record(pid: number, event: TraceKind, details: Record<string, TraceDetail> = {}): TraceEvent {
    const e: TraceEvent = { seq: this.events.length, time: this.now(), pid, event, details };
    this.events.push(e);
    for (const listener of this.listeners) listener(e);
    return e;
  }

  /** Call `listener` on every event from now on (the CLI streams with it). */
  subscribe(listener: (e: TraceEvent) => void): void {
    this.listeners.push(listener);
  }

  /** Events of one kind, optionally only those whose details match `where`. */
  find(event: TraceKind, where: Record<string, TraceDetail> = {}, pid?: number): TraceEvent[] {
    return this.events.filter(
      (e) =>
        e.event === event &&
        (pid === undefined || e.pid === pid) &&
        Object.entries(where).every(([k, v]) => e.details[k] === v),
    );
  }
}

/** One JSON object per event: {"seq":..,"time":..,"pid":..,"event":..,...details}. */
export function eventToJson(e: TraceEvent): string {
  return JSON.stringify({ seq: e.seq, time: e.time, pid: e.pid, event: e.event, ...e.details });
}

/** "  1.250s  [   12] exit         status=exit 3 name=worker" */
export function formatEvent(e: TraceEvent): string {
  const time = `${(e.time / 1000).toFixed(3)}s`.padStart(9);
  const pid = (e.pid === 0 ? 'kernel' : String(e.pid)).padStart(6);
  const details = Object.entries(e.details)
    .map(([k, v]) => `${k}=${typeof v === 'string' && /\s/.test(v) ? JSON.stringify(v) : String(v)}`)
    .join(' ');
  return `${time} [${pid}] ${e.event.padEnd(14)}${details}`.trimEnd();
}
