/**
 * struct pid (include/linux/pid.h, kernel/pid.c): the kernel's handle on a process
 * identifier, with one number per PID-namespace level, from the root namespace
 * (numbers[0]) down to the namespace it was allocated in (numbers[level]).
 *
 * Tasks attach to a struct pid by type (attach_pid): PIDTYPE_PID (the thread that
 * owns it), PIDTYPE_TGID (the thread group it leads), PIDTYPE_PGID and PIDTYPE_SID
 * (every process whose group or session it names). While anything is attached the
 * numbers stay allocated, which is why a process group id cannot be reused as a pid
 * while the group has members, even after its leader was reaped; free_pid() runs when
 * the last attachment goes (__change_pid).
 */
import type { PidNamespace } from './pid-namespace.js';
import type { Proc, Thread } from './process.js';

/** struct upid: the number of a struct pid in one namespace. */
export interface Upid {
  readonly nr: number;
  readonly ns: PidNamespace;
}

export class Pid {
  /** tasks[PIDTYPE_PID]: the thread whose own pid this is. */
  thread: Thread | null = null;
  /** tasks[PIDTYPE_TGID]: the thread group this pid leads. */
  tgidOf: Proc | null = null;
  /** tasks[PIDTYPE_PGID], in attach order (do_each_pid_task walks them so). */
  readonly pgrpOf = new Set<Proc>();
  /** tasks[PIDTYPE_SID]. */
  readonly sessionOf = new Set<Proc>();
  /** free_pid() ran: the numbers are back in their namespaces' allocators. */
  freed = false;

  constructor(readonly numbers: readonly Upid[]) {}

  get level(): number {
    return this.numbers.length - 1;
  }

  /** ns_of_pid(): the namespace the pid was allocated in (the task's active namespace). */
  get ns(): PidNamespace {
    return this.numbers[this.level]!.ns;
  }

  /** pid_nr(): the number seen from the root namespace. */
  nr(): number {
    return this.numbers[0]!.nr;
  }

  /**
   * pid_nr_ns(): the number seen from `ns`, or 0 when the pid is not visible there
   * (it lives in an ancestor or unrelated namespace). pid_vnr() is this with the
   * caller's active namespace.
   */
  nrNs(ns: PidNamespace): number {
    if (ns.level > this.level) return 0;
    const upid = this.numbers[ns.level]!;
    return upid.ns === ns ? upid.nr : 0;
  }

  /** pid_has_task() for any type. */
  hasTasks(): boolean {
    return this.thread !== null || this.tgidOf !== null || this.pgrpOf.size > 0 || this.sessionOf.size > 0;
  }

  /** pid_task(pid, PIDTYPE_PGID) != NULL: some process (live or zombie) is in this group. */
  isProcessGroup(): boolean {
    return this.pgrpOf.size > 0;
  }
}
