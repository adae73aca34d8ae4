/**
 * Process groups and sessions (kernel/sys.c setpgid/setsid, kernel/exit.c
 * will_become_orphaned_pgrp / kill_orphaned_pgrp). credentials(7) and setpgid(2)
 * describe the rules; the errnos below are the ones the kernel returns, in its order.
 */
import type { Errno } from '../kernel.js';
import type { Pid } from './pid.js';
import type { Proc } from './process.js';
import { KERNEL, sendSignal } from './signal-delivery.js';
import type { World } from './world.js';

/**
 * setpgid(pid, pgid) called by `caller` (sys_setpgid):
 * - pid 0 means the caller, pgid 0 means pgid = pid; a negative pgid is EINVAL;
 * - no such pid in the caller's namespace: ESRCH; a thread that is not a group leader: EINVAL;
 * - the target is a child of the caller: EPERM if it is in another session, EACCES if
 *   it has already exec'd (PF_FORKNOEXEC cleared); otherwise it must be the caller
 *   itself, else ESRCH;
 * - a session leader cannot change its group: EPERM;
 * - joining an existing group requires that group to exist in the caller's session: EPERM.
 */
export function setpgid(world: World, caller: Proc, pid: number, pgid: number): Errno | null {
  const ns = caller.ns;
  if (pid === 0) pid = caller.tgid.nrNs(ns);
  if (pgid === 0) pgid = pid;
  if (pgid < 0) return 'EINVAL';
  const thread = pid > 0 ? world.findThread(pid, ns) : null;
  if (thread === null) return 'ESRCH';
  if (!thread.isLeader) return 'EINVAL';
  const p = thread.proc;
  if (p.parent === caller) {
    if (p.session !== caller.session) return 'EPERM';
    if (!p.forkNoExec) return 'EACCES';
  } else if (p !== caller) {
    return 'ESRCH';
  }
  if (p.sessionLeader) return 'EPERM';
  let pgrp: Pid = p.tgid;
  if (pgid !== pid) {
    const found = ns.find(pgid);
    const member = found ? [...found.pgrpOf][0] : undefined;
    if (found === undefined || member === undefined || member.session !== caller.session) return 'EPERM';
    pgrp = found;
  }
  if (p.pgrp !== pgrp) {
    world.changePgrp(p, pgrp);
    world.record(p, 'setpgid', { pgid: pgrp.nr(), by: caller.tgid.nr() });
  }
  return null;
}

/**
 * setsid() (ksys_setsid): EPERM for a session leader, and EPERM when a process group
 * with the caller's pid exists already (which includes the caller leading its own
 * group). Otherwise the caller leads a new session and a new group, with no
 * controlling terminal. Returns the new session id as the caller sees it.
 */
export function setsid(world: World, proc: Proc): number | { readonly error: Errno } {
  if (proc.sessionLeader) return { error: 'EPERM' };
  const sid = proc.tgid;
  if (sid.isProcessGroup()) return { error: 'EPERM' };
  proc.sessionLeader = true;
  world.changeSession(proc, sid);
  world.changePgrp(proc, sid);
  world.record(proc, 'setsid', { sid: sid.nr() });
  return sid.nrNs(proc.ns);
}

/** is_global_init(): the root namespace's PID 1 (namespace inits do not count). */
function isGlobalInit(world: World, p: Proc | null): boolean {
  return p !== null && p === world.rootNs.childReaper;
}

/**
 * will_become_orphaned_pgrp(pgrp, ignored_task). POSIX 3.2.2.2: a group is orphaned
 * when no member has a parent in a different group of the same session. Zombies and
 * `ignored` do not count, nor do members whose parent is the global init.
 */
export function willBecomeOrphanedPgrp(world: World, pgrp: Pid, ignored: Proc | null): boolean {
  for (const p of pgrp.pgrpOf) {
    if (p === ignored || p.state === 'zombie' || p.state === 'dead' || isGlobalInit(world, p.parent)) continue;
    const parent = p.parent;
    if (parent !== null && parent.pgrp !== pgrp && parent.session === p.session) return false;
  }
  return true;
}

/** is_current_pgrp_orphaned(): decides whether SIGTSTP/SIGTTIN/SIGTTOU may stop the process. */
export function isPgrpOrphaned(world: World, pgrp: Pid): boolean {
  return willBecomeOrphanedPgrp(world, pgrp, null);
}

/** has_stopped_jobs(). */
function hasStoppedJobs(pgrp: Pid): boolean {
  for (const p of pgrp.pgrpOf) if (p.state === 'stopped') return true;
  return false;
}

/**
 * kill_orphaned_pgrp(tsk, parent): "Check to see if any process groups have become
 * orphaned as a result of our exiting, and if they have any stopped jobs, send them a
 * SIGHUP and then a SIGCONT. (POSIX 3.2.2.2)". With parent null this is `tsk` exiting
 * (its own group, `tsk` itself ignored); otherwise `tsk` is a child whose father
 * `parent` just left.
 */
export function killOrphanedPgrp(world: World, tsk: Proc, parent: Proc | null): void {
  const pgrp = tsk.pgrp;
  let ignored: Proc | null = tsk;
  if (parent === null) parent = tsk.parent;
  else ignored = null;
  if (parent === null) return;
  if (
    parent.pgrp !== pgrp &&
    parent.session === tsk.session &&
    willBecomeOrphanedPgrp(world, pgrp, ignored) &&
    hasStoppedJobs(pgrp)
  ) {
    world.record(tsk, 'orphaned-pgrp', { pgid: pgrp.nr() });
    for (const p of [...pgrp.pgrpOf]) sendSignal(world, 'SIGHUP', p, KERNEL);
    for (const p of [...pgrp.pgrpOf]) sendSignal(world, 'SIGCONT', p, KERNEL);
  }
}
