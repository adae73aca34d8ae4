/**
 * Exit, zombies and reaping (kernel/exit.c): do_exit / do_group_exit, exit_notify,
 * do_notify_parent, release_task, and wait4's wait_task_zombie.
 */
import { completeVfork, releaseThread } from './fork.js';
import { killOrphanedPgrp } from './groups.js';
import { describeExit, type ExitStatus, type IdType, type Proc, type Thread, type WaitOptions, type WaitSpec } from './process.js';
import { forgetOriginalParent, passChildrenToSibling, startZap } from './reparent.js';
import { simAssert, SimBug } from './sim-bug.js';
import { sendSignal } from './signal-delivery.js';
import { signalNumber, type SignalName } from '../../signals.js';
import type { SigInfo } from './pending-signals.js';
import type { World } from './world.js';

/**
 * do_group_exit(): SIGNAL_GROUP_EXIT with `status`, then every thread exits. When a
 * fatal signal set the flag already, its status wins (group_exit_code).
 */
export function exitGroup(world: World, proc: Proc, status: ExitStatus): void {
  if (proc.state === 'zombie' || proc.state === 'dead' || proc.state === 'exiting') return;
  if (proc.threads.length === 0) return;
  const final = proc.groupExit ?? status;
  proc.groupExit = final;
  world.record(proc, 'exit', { status: describeExit(final), name: proc.name });
  for (const t of [...proc.threads]) exitThread(world, t, final.kind === 'exited' ? final.code : 0, true);
}

/**
 * do_exit() of one task. A non-leader thread is released at once (exit_notify's
 * autoreap of "untraced sub-thread"). A leader that exits while other threads live
 * stays behind as a zombie task holding the tgid: the process is not waitable until
 * its last thread is gone (delay_group_leader()). The last thread to go, if no group
 * exit was set, sets SIGNAL_GROUP_EXIT with its own code (synchronize_group_exit(),
 * Linux 5.19 and later), so wait reports the code of the last thread, not the
 * leader's. (Before 5.19 wait_task_zombie() read the leader's exit_code; the
 * differential check, test/differential/, runs on a newer kernel.)
 */
export function exitThread(world: World, thread: Thread, code: number, group = false): void {
  simAssert(thread.state === 'alive', `thread ${thread.pid.nr()} exits twice`);
  const proc = thread.proc;
  thread.state = 'exited';
  thread.exitCode = code;
  // exit_mm() -> mm_release(): a parent waiting for this vfork child runs again, before
  // the child is a zombie and its SIGCHLD is sent (exit_notify comes later).
  completeVfork(world, thread);
  thread.block = null;
  thread.frames = [];
  if (thread.wakeTimer) world.clock.cancel(thread.wakeTimer);
  proc.threads = proc.threads.filter((t) => t !== thread);
  if (!group) world.record(thread, 'thread-exit', { code, tgid: proc.tgid.nr(), leader: thread.isLeader });
  if (!thread.isLeader) releaseThread(world, thread);
  if (proc.threads.length > 0) {
    // exit_notify -> forget_original_parent(): a live sibling thread takes this
    // thread's children (find_new_reaper -> find_alive_thread), and their
    // parent-death signals fire.
    passChildrenToSibling(world, thread, proc.threads[0]!);
    return;
  }
  // The thread group is dead. synchronize_group_exit(): the last thread's code.
  proc.status = proc.groupExit ?? { kind: 'exited', code };
  if (!group) world.record(proc, 'exit', { status: describeExit(proc.status), name: proc.name, last: 'thread' });
  if (proc === world.rootNs.childReaper) throw new SimBug('kernel panic: Attempted to kill init! (the root namespace init exited)');
  world.onProcessExit?.(proc);
  exitNotify(world, proc);
}

/**
 * exit_notify() for a dead thread group. A namespace init first runs
 * zap_pid_ns_processes (reparent.ts), which finishes the exit once the namespace is
 * empty; any other process finishes now.
 */
function exitNotify(world: World, proc: Proc): void {
  if (proc.ns.childReaper === proc) {
    startZap(world, proc);
    return;
  }
  finishExit(world, proc);
}

/**
 * The rest of exit_notify(): hand the children to their new reaper
 * (forget_original_parent), check whether our leaving orphans our own process group
 * (kill_orphaned_pgrp), become a zombie, tell the parent (do_notify_parent).
 */
export function finishExit(world: World, proc: Proc): void {
  forgetOriginalParent(world, proc);
  killOrphanedPgrp(world, proc, null);
  proc.transition('zombie');
  world.record(proc, 'zombie', { status: describeExit(proc.status!), parent: proc.parent?.tgid.nr() ?? 0 });
  if (proc.ns.childReaper === proc) world.record(proc, 'ns-dead', { ns: proc.ns.id });
  notifyParentOfExit(world, proc);
}

/**
 * do_notify_parent() for an exit: SIGCHLD to the parent and a wake-up of its wait().
 * When the parent's SIGCHLD disposition is SIG_IGN or has SA_NOCLDWAIT, the child is
 * reaped on the spot (autoreap); with SIG_IGN no signal is sent: wait(2), "POSIX.1-2001
 * specifies that if the disposition of SIGCHLD is set to SIG_IGN ... children that
 * terminate do not become zombies".
 */
export function notifyParentOfExit(world: World, proc: Proc): void {
  const parent = proc.parent;
  simAssert(parent !== null, `${proc.name} has no parent to notify`);
  // __wake_up_parent() runs whether or not the child is autoreaped, and wakes only the
  // waiters this child is eligible for (child_wait_callback -> pid_child_should_wake ->
  // eligible_pid). A woken waiter rescans: after an autoreap it may find nothing left
  // to wait for and return ECHILD.
  // SA_NOCLDWAIT autoreaps too, but SIGCHLD is still sent (only SIG_IGN sets sig = 0).
  const waiters = parent.threads.filter((t) => t.block?.kind === 'wait' && eligible(proc, t.block.spec));
  const d = parent.disposition('SIGCHLD');
  const autoreap = d.kind === 'ignore' || d.noCldWait === true;
  if (d.kind !== 'ignore') sendSignal(world, 'SIGCHLD', parent, { proc, kernel: false }, undefined, exitInfo(proc, parent));
  if (autoreap) release(world, proc, null);
  for (const t of waiters) world.wake(t);
}

/**
 * do_notify_parent()'s siginfo: si_pid is the child's tgid in the parent's namespace
 * (task_pid_nr_ns(tsk, task_active_pid_ns(tsk->parent))); si_code and si_status say
 * what wait(2) will report: CLD_DUMPED when a core was written, CLD_KILLED for another
 * signal, else CLD_EXITED with the exit code. That holds for a leader that exited
 * before its last thread too: Linux 6.18 reports the group's code (the last thread's,
 * synchronize_group_exit), not the leader's own (the corpus checks it:
 * sigchld-info-leader-exited-first).
 */
function exitInfo(proc: Proc, parent: Proc): SigInfo {
  const own = proc.status!;
  const pid = proc.tgid.nrNs(parent.ns);
  if (own.kind === 'exited') return { code: 'CLD_EXITED', pid, status: own.code };
  return { code: own.core ? 'CLD_DUMPED' : 'CLD_KILLED', pid, status: signalNumber(own.signal) };
}

/**
 * release_task(): the zombie is gone. Its struct pid numbers are freed once nothing
 * else refers to them (a group or session id outlives its leader while members remain).
 * `by` is the process whose wait collected it; null for an autoreap.
 */
export function release(world: World, proc: Proc, by: Proc | null): void {
  simAssert(proc.reapable, `release of ${proc.name} (${proc.tgid.nr()}) in state ${proc.state}`);
  proc.transition('dead');
  const parent = proc.parent;
  if (parent) parent.children = parent.children.filter((c) => c !== proc);
  world.procs.delete(proc);
  world.record(proc, by ? 'reaped' : 'autoreaped', {
    status: describeExit(proc.status!),
    ...(by ? { by: by.tgid.nr() } : { parent: parent?.tgid.nr() ?? 0 }),
  });
  const tgid = proc.tgid;
  tgid.thread = null;
  tgid.tgidOf = null;
  proc.pgrp.pgrpOf.delete(proc);
  proc.session.sessionOf.delete(proc);
  world.maybeFree(tgid);
  world.maybeFree(proc.pgrp);
  world.maybeFree(proc.session);
}

export type WaitOutcome =
  | { readonly kind: 'status'; readonly pid: number; readonly status: ExitStatus }
  /** WUNTRACED / WCONTINUED: a child that stopped (with this signal) or continued. */
  | { readonly kind: 'job'; readonly pid: number; readonly stopped: SignalName | null }
  | { readonly kind: 'none' }
  | { readonly kind: 'echild' };

/** include/uapi/linux/limits.h INT_MIN: waitpid(INT_MIN) is ESRCH ("-INT_MIN is not defined"). */
export const INT_MIN = -2147483648;

/**
 * kernel_wait4(): what waitpid(upid) selects, read once when the call starts, in the
 * caller's namespace. ESRCH for INT_MIN.
 */
export function waitSpec(waiter: Proc, upid: number): WaitSpec | 'ESRCH' {
  if (upid === INT_MIN) return 'ESRCH';
  const ns = waiter.ns;
  if (upid === -1) return { type: 'all' };
  if (upid === 0) return { type: 'pgid', pid: waiter.pgrp };
  const pid = ns.find(Math.abs(upid)) ?? null;
  return { type: upid < 0 ? 'pgid' : 'pid', pid: pid !== null && !pid.freed ? pid : null };
}

/**
 * kernel_waitid(): what waitid(idtype, id) selects: P_PID needs id > 0, P_PGID id >= 0
 * (0: the caller's group), else EINVAL.
 */
export function waitidSpec(waiter: Proc, idtype: IdType, id: number): WaitSpec | 'EINVAL' {
  if (idtype === 'all') return { type: 'all' };
  if (idtype === 'pid' ? id <= 0 : id < 0) return 'EINVAL';
  if (idtype === 'pgid' && id === 0) return { type: 'pgid', pid: waiter.pgrp };
  const pid = waiter.ns.find(id) ?? null;
  return { type: idtype, pid: pid !== null && !pid.freed ? pid : null };
}

/** eligible_pid(): does the child match what the wait selects (task_pid_type(p, type) == wo_pid)? */
export function eligible(child: Proc, spec: WaitSpec): boolean {
  if (spec.type === 'all') return true;
  return (spec.type === 'pid' ? child.tgid : child.pgrp) === spec.pid;
}

/**
 * One waitpid(target, WNOHANG) by `waiter` (do_wait / wait_consider_task): target > 0
 * that child, 0 a child in the waiter's group, -1 any child, < -1 a child in group
 * -target; numbers are read in the waiter's namespace. ECHILD when no child matches at
 * all; 'none' when some match but none is a reapable zombie. Children are scanned in
 * list order, so the oldest zombie comes first.
 */
export function waitChild(world: World, waiter: Proc, target: number | WaitSpec, caller?: Thread, options: WaitOptions = { exited: true }): WaitOutcome {
  const ns = waiter.ns;
  const spec = typeof target === 'number' ? waitSpec(waiter, target) : target;
  if (spec === 'ESRCH') return { kind: 'echild' };
  // __do_wait(): the calling thread's own children first, then each other thread's,
  // in thread-list order from the caller (while_each_thread).
  const threads = waiter.threads;
  const from = caller === undefined ? 0 : Math.max(0, threads.indexOf(caller));
  const order = [...threads.slice(from), ...threads.slice(0, from)];
  const scanned = order.flatMap((t) => waiter.childrenOf(t));
  // Children of no live thread: a dying namespace init keeps its own.
  const rest = waiter.children.filter((c) => !scanned.includes(c));
  // wait_consider_task(): a zombie counts only when WEXITED is asked for
  // (wait_task_zombie returns 0 before notask_error is cleared); then, per child in
  // order, its exit, its stop (WUNTRACED, wait_task_stopped), its continue
  // (WCONTINUED, wait_task_continued). WNOWAIT reports without reaping or clearing.
  const exited = options.exited !== false;
  const candidates = [...scanned, ...rest].filter((c) => eligible(c, spec) && (exited || !c.reapable));
  if (candidates.length === 0) return { kind: 'echild' };
  for (const c of candidates) {
    const pid = c.tgid.nrNs(ns);
    if (c.reapable) {
      const status = c.status!;
      if (options.nowait !== true) release(world, c, waiter);
      return { kind: 'status', pid, status };
    }
    if (options.stopped === true && c.stopCode !== null && c.state === 'stopped') {
      const stopped = c.stopCode;
      if (options.nowait !== true) c.stopCode = null;
      return { kind: 'job', pid, stopped };
    }
    if (options.continued === true && c.continuedReport) {
      if (options.nowait !== true) c.continuedReport = false;
      return { kind: 'job', pid, stopped: null };
    }
  }
  return { kind: 'none' };
}
