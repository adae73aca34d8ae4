/**
 * PID namespaces (pid_namespaces(7), kernel/pid_namespace.c) and the pid allocator
 * (alloc_pid / free_pid in kernel/pid.c).
 *
 * Each namespace has its own idr of numbers. A struct pid allocated in namespace N
 * gets a number in N and in every ancestor of N, so a parent namespace sees (and can
 * signal and wait for) everything below it, and never the other way round.
 */
import type { Errno } from '../kernel.js';
import { Pid, type Upid } from './pid.js';
import type { Proc } from './process.js';
import { SimBug, simAssert } from './sim-bug.js';

/** include/linux/pid_namespace.h: RESERVED_PIDS. Below this, numbers are for daemons started at boot. */
export const RESERVED_PIDS = 300;
/** include/linux/threads.h: PID_MAX_DEFAULT (0x8000). /proc/sys/kernel/pid_max; allocation uses [min, pid_max). */
export const PID_MAX_DEFAULT = 32768;
/** kernel/pid_namespace.c: MAX_PID_NS_LEVEL. unshare/clone past it fail with ENOSPC. */
export const MAX_PID_NS_LEVEL = 32;

export class PidNamespace {
  /** The numbers in use here and who holds them (struct pid_namespace.idr). */
  readonly idr = new Map<number, Pid>();
  /**
   * idr_get_cursor(): the next number idr_alloc_cyclic() tries. 0 in a new namespace,
   * so its first process gets 1.
   */
  cursor = 0;
  /**
   * PIDNS_ADDING: set while the namespace accepts new processes. Cleared by
   * disable_pid_allocation() when its init dies; alloc_pid() then fails with ENOMEM.
   */
  adding = true;
  /** pid_ns->child_reaper: the namespace's init (its PID 1). */
  childReaper: Proc | null = null;
  /** zap_pid_ns_processes() is running: init died and everything else is being killed. */
  zapping = false;

  constructor(
    /** Display id: 0 for the root namespace, then 1, 2, ... in creation order. */
    readonly id: number,
    readonly parent: PidNamespace | null,
    readonly pidMax: number,
  ) {
    if (parent && parent.level + 1 > MAX_PID_NS_LEVEL) throw new SimBug('namespace nested past MAX_PID_NS_LEVEL');
  }

  get level(): number {
    return this.parent === null ? 0 : this.parent.level + 1;
  }

  /** Is `ns` this namespace or one of its descendants? */
  contains(ns: PidNamespace): boolean {
    for (let n: PidNamespace | null = ns; n !== null; n = n.parent) if (n === this) return true;
    return false;
  }

  /** find_pid_ns(). */
  find(nr: number): Pid | undefined {
    return this.idr.get(nr);
  }

  /** pid_allocated without the PIDNS_ADDING bit. */
  get allocated(): number {
    return this.idr.size;
  }
}

/**
 * idr_alloc_cyclic(idr, NULL, min, max): the first free number at or after the
 * cursor, wrapping once to `min`; numbers are in [min, max). ENOSPC when all are taken.
 * The cursor moves past the number handed out.
 */
function idrAllocCyclic(ns: PidNamespace, min: number, max: number): number | 'ENOSPC' {
  const from = Math.max(ns.cursor, min);
  const scan = (lo: number, hi: number): number | null => {
    for (let nr = lo; nr < hi; nr++) if (!ns.idr.has(nr)) return nr;
    return null;
  };
  let nr = scan(from, max);
  if (nr === null && from > min) nr = scan(min, from);
  if (nr === null) return 'ENOSPC';
  ns.cursor = nr + 1;
  return nr;
}

export type AllocResult = Pid | { readonly error: Errno };

/**
 * alloc_pid(ns, set_tid, set_tid_size), kernel/pid.c.
 *
 * For each level from `ns` up to the root: take the number asked for in `setTid`
 * (clone3's set_tid, innermost first; EEXIST if taken, EINVAL if out of range or if a
 * number other than 1 is asked for in a namespace that has no init yet), else the
 * next free one cyclically in [pid_min, pid_max), where pid_min is 1 until the cursor
 * has passed RESERVED_PIDS and RESERVED_PIDS afterwards ("init really needs pid 1, but
 * after reaching the maximum wrap back to RESERVED_PIDS"). A full namespace gives
 * ENOSPC, returned as EAGAIN (fork(2): "EAGAIN ... the maximum number of PIDs,
 * /proc/sys/kernel/pid_max, was reached"). If the innermost namespace no longer has
 * PIDNS_ADDING (its init has died) the numbers are given back and the answer is
 * ENOMEM, as fork(2) documents for a dead PID namespace.
 */
export function allocPid(ns: PidNamespace, setTid: readonly number[] = []): AllocResult {
  if (setTid.length > ns.level + 1) return { error: 'EINVAL' };
  const numbers: Upid[] = new Array<Upid>(ns.level + 1);
  const taken: Upid[] = [];
  const undo = (error: Errno): AllocResult => {
    for (const u of taken) u.ns.idr.delete(u.nr);
    // "On failure to allocate the first pid, reset the state."
    if (ns.adding && ns.idr.size === 0) ns.cursor = 0;
    return { error };
  };
  let level = ns;
  for (let i = ns.level; i >= 0; i--) {
    // The innermost setTid.length levels take the number asked for; 0 is no wildcard
    // there (alloc_pid: "if (tid < 1 || tid >= pid_max) goto out_free" with -EINVAL).
    const covered = ns.level - i < setTid.length;
    const tid = setTid[ns.level - i] ?? 0;
    let nr: number | 'ENOSPC' | 'EEXIST';
    if (covered) {
      if (tid < 1 || tid >= level.pidMax) return undo('EINVAL');
      if (tid !== 1 && level.childReaper === null) return undo('EINVAL');
      nr = level.idr.has(tid) ? 'EEXIST' : tid;
    } else {
      const pidMin = level.cursor > RESERVED_PIDS ? RESERVED_PIDS : 1;
      nr = idrAllocCyclic(level, pidMin, level.pidMax);
    }
    if (nr === 'ENOSPC') return undo('EAGAIN');
    if (nr === 'EEXIST') return undo('EEXIST');
    const upid: Upid = { nr, ns: level };
    numbers[i] = upid;
    // Reserve the number now (the kernel stores NULL and replaces it at the end).
    level.idr.set(nr, null as unknown as Pid);
    taken.push(upid);
    if (i > 0) level = level.parent!;
  }
  if (!ns.adding) return undo('ENOMEM');
  const pid = new Pid(numbers);
  for (const u of numbers) u.ns.idr.set(u.nr, pid);
  return pid;
}

/**
 * free_pid(): give the numbers back at every level. The caller has checked that no
 * task is attached any more.
 */
export function freePid(pid: Pid): void {
  simAssert(!pid.freed, `struct pid ${pid.nr()} freed twice`);
  simAssert(!pid.hasTasks(), `struct pid ${pid.nr()} freed while tasks are attached`);
  for (const u of pid.numbers) {
    simAssert(u.ns.idr.get(u.nr) === pid, `idr of namespace ${u.ns.id} does not map ${u.nr} to this pid`);
    u.ns.idr.delete(u.nr);
  }
  pid.freed = true;
}

/** disable_pid_allocation(): clear PIDNS_ADDING; later forks into `ns` get ENOMEM. */
export function disablePidAllocation(ns: PidNamespace): void {
  ns.adding = false;
}
