/**
 * Orphans and the death of a namespace init (kernel/exit.c find_new_reaper,
 * forget_original_parent, reparent_leader; kernel/pid_namespace.c
 * zap_pid_ns_processes; kernel/sys.c PR_SET_CHILD_SUBREAPER).
 *
 * pid_namespaces(7): "If a child process is orphaned ... it is reparented to the init
 * process in the PID namespace of the child (unless one of the nearer ancestors of the
 * orphan employed the prctl(2) PR_SET_CHILD_SUBREAPER command to mark itself as the
 * reaper of orphaned descendant processes)" and "If the 'init' process of a PID
 * namespace terminates, the kernel terminates all of the processes in the namespace
 * via a SIGKILL signal ... a subsequent fork(2) into this PID namespace fails with the
 * error ENOMEM."
 */
import { finishExit, notifyParentOfExit, release } from './exit.js';
import { killOrphanedPgrp } from './groups.js';
import type { PidNamespace } from './pid-namespace.js';
import { disablePidAllocation } from './pid-namespace.js';
import { SIG_IGN, type Proc, type Thread } from './process.js';
import { KERNEL, sendSignal } from './signal-delivery.js';
import { simAssert } from './sim-bug.js';
import type { World } from './world.js';

/** find_alive_thread() != NULL: some thread of `p` is not yet exiting. */
function hasAliveThread(p: Proc): boolean {
  return p.threads.length > 0;
}

/**
 * find_new_reaper(): the nearest ancestor that is a child subreaper and still has a
 * live thread, looking only while the ancestors are in the father's namespace (the
 * walk compares pid levels) and never past the root init; otherwise the namespace's
 * child_reaper (find_child_reaper()). The search only runs when has_child_subreaper is
 * set, i.e. some ancestor was a subreaper when the father was forked or became one later.
 */
export function findNewReaper(world: World, father: Proc): Proc {
  if (father.hasChildSubreaper) {
    const level = father.tgid.level;
    for (let r = father.parent; r !== null && r.tgid.level === level; r = r.parent) {
      if (r === world.rootNs.childReaper) break;
      if (!r.isChildSubreaper) continue;
      if (hasAliveThread(r)) return r;
    }
  }
  const reaper = father.ns.childReaper;
  simAssert(reaper !== null, `namespace ${father.ns.id} has no child reaper`);
  return reaper;
}

/**
 * forget_original_parent(): every child of the dead `father` gets the new reaper as
 * parent (appended to its children list), its parent-death signal if it asked for one
 * (PR_SET_PDEATHSIG), and then reparent_leader(): a child that is already a zombie is
 * announced to the new parent (SIGCHLD, or an autoreap when the new parent ignores
 * SIGCHLD), and kill_orphaned_pgrp(child, father) checks whether the father's leaving
 * orphaned the child's process group.
 */
export function forgetOriginalParent(world: World, father: Proc): void {
  if (father.children.length === 0) return;
  const reaper = findNewReaper(world, father);
  // A dying namespace init keeps its children: zap_pid_ns_processes has collected them.
  if (reaper === father) return;
  const children = father.children;
  father.children = [];
  reaper.children.push(...children);
  // The new real_parent is the reaper's first live thread (find_alive_thread()).
  const reaperThread = reaper.aliveThread ?? reaper.leader;
  for (const child of children) {
    child.parentThread = reaperThread;
    world.record(child, 'reparented', { from: father.tgid.nr(), to: reaper.tgid.nr() });
  }
  for (const child of children) {
    if (child.state === 'dead') continue;
    sendParentDeathSignals(world, child, father);
    if (child.reapable) notifyParentOfExit(world, child);
    if (world.procs.has(child)) killOrphanedPgrp(world, child, father);
  }
}

/**
 * forget_original_parent()'s "for_each_thread(p, t) if (t->pdeath_signal)
 * group_send_sig_info(t->pdeath_signal, ...)": every thread of the child that asked
 * for a parent-death signal sends its own to the child process. A thread that exited
 * took its setting with it; a leader that exited first stays on the thread list (a
 * zombie until the group is reaped), so its setting still counts.
 */
function sendParentDeathSignals(world: World, child: Proc, father: Proc): void {
  if (child.threads.length === 0) return;
  const listed = child.leader.state === 'exited' ? [child.leader, ...child.threads] : child.threads;
  for (const t of listed) {
    if (t.pdeathSignal === null) continue;
    world.record(child, 'pdeathsig', { signal: t.pdeathSignal });
    sendSignal(world, t.pdeathSignal, child, { proc: father, kernel: false });
  }
}

/**
 * forget_original_parent() for a thread that exits while its process lives on: its
 * children go to `sibling` (find_alive_thread()), appended at the end of its list
 * (list_splice_tail_init), and their parent-death signals fire; being a "threaded
 * reparent", nothing else happens (no reparent_leader).
 */
export function passChildrenToSibling(world: World, thread: Thread, sibling: Thread): void {
  const proc = thread.proc;
  const moved = proc.childrenOf(thread);
  if (moved.length === 0) return;
  proc.children = [...proc.children.filter((c) => c.parentThread !== thread), ...moved];
  for (const child of moved) child.parentThread = sibling;
  for (const child of moved) sendParentDeathSignals(world, child, proc);
}

/**
 * zap_pid_ns_processes(), run by a namespace init whose last thread has exited:
 * disable_pid_allocation() (later forks into the namespace get ENOMEM), set its own
 * SIGCHLD to SIG_IGN so that its children are autoreaped, SIGKILL (SEND_SIG_PRIV,
 * forced) every other process with a number in the namespace, in number order from 2,
 * reap the zombie children it already had, and wait until the namespace holds only
 * the init's own pid. The init stays 'exiting' meanwhile; finishZapIfEmpty ends it.
 */
export function startZap(world: World, init: Proc): void {
  const ns = init.ns;
  init.transition('exiting');
  disablePidAllocation(ns);
  ns.zapping = true;
  world.record(init, 'ns-zap', { ns: ns.id, remaining: ns.allocated - 1 });
  init.dispositions.set('SIGCHLD', SIG_IGN);
  const numbers = [...ns.idr.keys()].filter((nr) => nr >= 2).sort((a, b) => a - b);
  for (const nr of numbers) {
    const task = ns.find(nr)?.thread;
    if (task && task.state === 'alive' && task.proc.groupExit === null) sendSignal(world, 'SIGKILL', task.proc, KERNEL);
  }
  for (const child of [...init.children]) if (child.reapable) release(world, child, null);
  finishZapIfEmpty(world, ns);
}

/**
 * The wait loop at the end of zap_pid_ns_processes(): done when pid_allocated ==
 * init_pids, i.e. the only number left in the namespace is the init's own (its
 * leader's pid; the last thread's own pid, the second of init_pids when it is not the
 * leader, is already released here). Every other allocated number counts, including
 * one that only the init itself still holds: a process group of its namespace that
 * the init joined keeps its leader's pid allocated after the leader is gone, so the
 * init stays exiting until something moves it to another group (its parent's
 * setpgid), and free_pid() wakes it.
 */
export function finishZapIfEmpty(world: World, ns: PidNamespace): void {
  if (!ns.zapping) return;
  const init = ns.childReaper!;
  const onlyInit = [...ns.idr.values()].every((pid) => pid === init.tgid);
  if (!onlyInit) return;
  ns.zapping = false;
  finishExit(world, init);
}

/**
 * prctl(PR_SET_CHILD_SUBREAPER). Turning it on also sets has_child_subreaper on every
 * descendant (propagate_has_child_subreaper), stopping at subtrees that already have
 * it and at namespace inits, whose namespace never looks past them.
 */
export function setChildSubreaper(world: World, proc: Proc, on: boolean): void {
  proc.isChildSubreaper = on;
  world.record(proc, 'subreaper', { on });
  if (!on) return;
  const visit = (p: Proc): void => {
    for (const c of p.children) {
      if (c.hasChildSubreaper || c.ns.childReaper === c) continue;
      c.hasChildSubreaper = true;
      visit(c);
    }
  };
  visit(proc);
}
