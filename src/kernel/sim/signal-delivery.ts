/**
 * Sending and acting on signals (kernel/signal.c): kill_something_info (kill(2)),
 * __kill_pgrp_info, send_signal / prepare_signal / sig_task_ignored /
 * complete_signal, and the default actions of get_signal (signal(7)).
 *
 * Delivery is split as in the kernel: sending decides at once whether the signal is
 * ignored, flushes SIGCONT against the stop signals, continues a stopped process on
 * SIGCONT, and starts the group exit for a fatal signal (complete_signal); the target
 * acts on what stays pending the next time it runs (get_signal), which in the
 * simulator is the next turn of the scheduler. So after kill() returns the target is
 * not yet a zombie, as on Linux.
 */
import type { Errno } from '../kernel.js';
import { isSignalName, JOB_CONTROL_STOP_SIGNALS, signalNumber, type SignalName } from '../../signals.js';
import { defaultAction } from './default-actions.js';
import { eligible, exitGroup, waitSpec } from './exit.js';
import { isPgrpOrphaned } from './groups.js';
import type { SigInfo } from './pending-signals.js';
import type { Disposition, Proc, Thread } from './process.js';
import type { World } from './world.js';

/** Who sends: a process (SEND_SIG_NOINFO/SI_USER) or the kernel itself (SEND_SIG_PRIV, always forced). */
export interface Sender {
  readonly proc: Proc | null;
  readonly kernel: boolean;
}

export const KERNEL: Sender = { proc: null, kernel: true };

const STOP_SIGNALS: readonly SignalName[] = ['SIGSTOP', ...JOB_CONTROL_STOP_SIGNALS];

/**
 * valid_signal(): kill(2) and friends fail with EINVAL for anything else. Typed callers
 * cannot pass anything else; the check is for JavaScript callers of the simulator.
 */
export function isValidSignal(signal: string): signal is SignalName {
  return isSignalName(signal);
}

/** sig_kernel_only(): SIGKILL and SIGSTOP, which no handler or SIG_IGN can intercept. */
export function isKernelOnly(signal: SignalName): boolean {
  return signal === 'SIGKILL' || signal === 'SIGSTOP';
}

/** sig_kernel_ignore(): default action ignore (SIGCONT counts: its work is done at send time). */
function kernelIgnores(signal: SignalName): boolean {
  const a = defaultAction(signal);
  return a === 'ignore' || a === 'cont';
}

/**
 * sig_task_ignored() (with sig_ignored; signal masks and ptrace are not modelled):
 * - the global init never gets SIGKILL or SIGSTOP;
 * - a SIGNAL_UNKILLABLE namespace init ignores every signal it has no handler for,
 *   except SIGKILL/SIGSTOP when forced, i.e. sent from an ancestor namespace or by the
 *   kernel (pid_namespaces(7): "the only signals that can be sent to the namespace
 *   init are those for which the init has established a signal handler ... SIGKILL or
 *   SIGSTOP ... from an ancestor namespace");
 * - SIG_IGN, or SIG_DFL with a default action of ignore.
 * Returns the reason it is ignored, or null.
 */
function ignoredBecause(world: World, target: Proc, signal: SignalName, force: boolean): string | null {
  const d: Disposition = target.disposition(signal);
  if (target === world.rootNs.childReaper && isKernelOnly(signal)) return 'global init';
  if (target.unkillable && d.kind === 'default' && !(force && isKernelOnly(signal))) return 'namespace init has no handler';
  if (d.kind === 'ignore') return 'SIG_IGN';
  if (d.kind === 'default' && kernelIgnores(signal)) return 'default action is ignore';
  return null;
}

/**
 * The siginfo __send_signal_locked() builds when the caller passes none: SEND_SIG_PRIV
 * is SI_KERNEL with si_pid 0; SEND_SIG_NOINFO (kill(2), a parent-death signal) is
 * SI_USER, and tgkill(2) SI_TKILL, both with si_pid = the sender's tgid as the
 * receiver's namespace numbers it (task_tgid_nr_ns(current, task_active_pid_ns(t)):
 * 0 from an ancestor namespace).
 */
function senderInfo(target: Proc, sender: Sender, toThread: boolean): SigInfo {
  if (sender.kernel || sender.proc === null) return { code: 'SI_KERNEL', pid: 0 };
  return { code: toThread ? 'SI_TKILL' : 'SI_USER', pid: sender.proc.tgid.nrNs(target.ns) };
}

/**
 * send_signal() to a thread group. `force` as the kernel computes it: a kernel-made
 * signal, or a sender whose own pid is not visible in the target's namespace (it
 * lives in an ancestor namespace). `info` is the siginfo the kernel fills in itself
 * (do_notify_parent's CLD_* codes); without it the sender's (senderInfo).
 */
export function sendSignal(world: World, signal: SignalName, target: Proc, sender: Sender, thread?: Thread, info?: SigInfo): void {
  const force = sender.kernel || sender.proc === null || sender.proc.tgid.nrNs(target.ns) === 0;
  const siginfo = info ?? senderInfo(target, sender, thread !== undefined);
  world.record(target, 'signal', { signal, from: sender.proc?.tgid.nr() ?? 0 });
  // prepare_signal(): a dying process drops everything.
  if (target.groupExit !== null || target.state === 'zombie' || target.state === 'dead' || target.state === 'exiting') {
    world.record(target, 'ignored', { signal, reason: 'exiting' });
    return;
  }
  if (STOP_SIGNALS.includes(signal)) {
    target.pending.remove('SIGCONT');
    for (const t of target.threads) t.pending.remove('SIGCONT');
  } else if (signal === 'SIGCONT') {
    for (const s of STOP_SIGNALS) target.pending.remove(s);
    for (const t of target.threads) for (const s of STOP_SIGNALS) t.pending.remove(s);
    if (target.state === 'stopped') continueProcess(world, target);
  }
  const reason = ignoredBecause(world, target, signal, force);
  if (reason !== null) {
    world.record(target, 'ignored', { signal, reason });
    return;
  }
  const fromSelf = sender.proc === target;
  const d = target.disposition(signal);
  if (d.kind === 'handler' && d.action === 'external') {
    target.batch.add(signal, fromSelf);
    return;
  }
  // complete_signal(): a fatal signal without a handler starts the group exit at once
  // (SIGNAL_GROUP_EXIT); core-dumping ones go through get_signal/do_coredump instead.
  // Only if some thread wants it (wants_signal()): a stopped task wants nothing but
  // SIGKILL, so a SIGTERM sent to a stopped process stays pending, and the process
  // stays stopped until SIGCONT lets it act on it.
  const wanted = signal === 'SIGKILL' || target.state !== 'stopped';
  if (wanted && (signal === 'SIGKILL' || (d.kind === 'default' && defaultAction(signal) === 'term'))) {
    target.groupExit = { kind: 'signaled', signal, core: false };
    world.wakeAll(target);
    return;
  }
  // A signal to one thread (tgkill, PIDTYPE_PID) waits on that thread's own pending
  // list and is taken by that thread; a process-directed one by the first live thread.
  if (thread !== undefined) {
    thread.pending.add(signal, fromSelf, siginfo);
    world.wake(thread);
    return;
  }
  target.pending.add(signal, fromSelf, siginfo);
  const t = target.threads[0];
  if (t) world.wake(t);
}

/**
 * tgkill(tgid, tid, sig) by `sender` (do_tkill): EINVAL for a number <= 0, ESRCH when
 * `tid` is not a live thread of process `tgid` in the sender's namespace; then the
 * signal goes to that thread alone (a fatal or stop action still takes the whole
 * process).
 */
export function tgkillFrom(world: World, sender: Proc, tgid: number, tid: number, signal: SignalName | 'SIG0'): Errno | null {
  if (signal !== 'SIG0' && !isValidSignal(signal)) return 'EINVAL';
  if (tgid <= 0 || tid <= 0) return 'EINVAL';
  const thread = world.findThread(tid, sender.ns);
  if (thread === null || thread.state !== 'alive' || thread.proc.tgid.nrNs(sender.ns) !== tgid) return 'ESRCH';
  if (signal !== 'SIG0') sendSignal(world, signal, thread.proc, { proc: sender, kernel: false }, thread);
  return null;
}

/** SIGCONT on a stopped process (prepare_signal): it runs again; the parent hears CLD_CONTINUED. */
function continueProcess(world: World, proc: Proc): void {
  proc.transition('running');
  // prepare_signal(SIGCONT): group_exit_code = 0, SIGNAL_STOP_CONTINUED.
  proc.stopCode = null;
  proc.continuedReport = true;
  // A thread stopped inside a wait left it with -ERESTARTSYS and restarts it now:
  // kernel_wait4 reads its arguments again (wait(0) takes the group the process is
  // in by now).
  for (const t of proc.threads) {
    if (t.block?.kind !== 'wait') continue;
    const spec = waitSpec(proc, t.block.target);
    if (spec !== 'ESRCH') t.block = { ...t.block, spec };
  }
  world.record(proc, 'continued', {});
  world.wakeAll(proc);
  notifyParentCldStop(world, proc);
}

/**
 * do_notify_parent_cldstop(): SIGCHLD to the parent when a child stops or continues,
 * unless the parent's SIGCHLD is SIG_IGN or has SA_NOCLDSTOP (then the disposition
 * decides as usual, mostly ignore).
 */
function notifyParentCldStop(world: World, proc: Proc): void {
  const parent = proc.parent;
  if (parent === null) return;
  const d = parent.disposition('SIGCHLD');
  // The siginfo: the child's tgid in the parent's namespace; CLD_CONTINUED with
  // si_status SIGCONT, CLD_STOPPED with the stop signal (group_exit_code & 0x7f).
  const info: SigInfo =
    proc.stopCode === null
      ? { code: 'CLD_CONTINUED', pid: proc.tgid.nrNs(parent.ns), status: signalNumber('SIGCONT') }
      : { code: 'CLD_STOPPED', pid: proc.tgid.nrNs(parent.ns), status: signalNumber(proc.stopCode) };
  if (!(d.kind === 'handler' && d.noCldStop === true)) sendSignal(world, 'SIGCHLD', parent, { proc, kernel: false }, undefined, info);
  // "Even if SIGCHLD is not generated, we must wake up wait4 calls" (__wake_up_parent):
  // the waiters this child is eligible for rescan.
  for (const t of parent.threads) if (t.block?.kind === 'wait' && eligible(proc, t.block.spec)) world.wake(t);
}

/** do_signal_stop(): every thread stops; the parent hears CLD_STOPPED. */
function stopProcess(world: World, proc: Proc, signal: SignalName): void {
  proc.transition('stopped');
  // do_signal_stop(): signal->flags = SIGNAL_STOP_STOPPED, group_exit_code = signr.
  proc.stopCode = signal;
  proc.continuedReport = false;
  world.record(proc, 'stopped', { signal });
  notifyParentCldStop(world, proc);
}

/**
 * kill(2) by `sender` (kill_something_info): target > 0 the process with that pid in
 * the sender's namespace; 0 the sender's group; -1 every process the sender can see
 * whose pid there is > 1, except the sender itself (so neither init nor the caller);
 * < -1 the group -target. 'SIG0' only checks. ESRCH when nothing matched; EINVAL for a
 * signal Linux does not have. (No credentials are modelled, so never EPERM.)
 */
export function killFrom(world: World, sender: Proc, target: number, signal: SignalName | 'SIG0'): Errno | null {
  if (signal !== 'SIG0' && !isValidSignal(signal)) return 'EINVAL';
  const ns = sender.ns;
  const from: Sender = { proc: sender, kernel: false };
  const send = (p: Proc): void => {
    if (signal !== 'SIG0') sendSignal(world, signal, p, from);
  };
  if (target > 0) {
    const p = world.findProc(target, ns);
    if (p === null) return 'ESRCH';
    send(p);
    return null;
  }
  if (target === -1) {
    let count = 0;
    for (const p of [...world.procs]) {
      if (p.tgid.nrNs(ns) > 1 && p !== sender) {
        count++;
        send(p);
      }
    }
    return count > 0 ? null : 'ESRCH';
  }
  const pgrp = target === 0 ? sender.pgrp : world.findPgrp(-target, ns);
  if (pgrp === null || pgrp.pgrpOf.size === 0) return 'ESRCH';
  for (const p of [...pgrp.pgrpOf]) send(p);
  return null;
}

/** What get_signal() found for a scripted thread: a handler to run, or nothing. */
export type Delivery = { readonly signal: SignalName; readonly info: SigInfo | null; readonly disposition: Disposition & { kind: 'handler' } } | null;

/**
 * get_signal() for the thread that takes the process's signals: act on pending
 * signals until one needs a handler (returned) or the process stops or exits.
 * Default actions per signal(7): term and core end the process (core sets WCOREDUMP
 * only when the world allows core dumps), stop stops it unless the signal is
 * SIGTSTP/SIGTTIN/SIGTTOU and its group is orphaned (then it is discarded), cont and
 * ign do nothing. A namespace init drops any signal it has no handler for ("Global
 * init gets no signals it doesn't want"), except forced SIGKILL/SIGSTOP.
 */
export function getSignal(world: World, thread: Thread, shared = true): Delivery {
  const proc = thread.proc;
  for (;;) {
    if (proc.groupExit !== null) {
      exitGroup(world, proc, proc.groupExit);
      return null;
    }
    if (proc.state === 'stopped') return null;
    // dequeue_signal(): the thread's own pending first, then the shared one.
    const next = thread.pending.takeNextWithInfo() ?? (shared ? proc.pending.takeNextWithInfo() : null);
    if (next === null) return null;
    const { signal, info } = next;
    const d = proc.disposition(signal);
    if (d.kind === 'ignore') {
      world.record(proc, 'ignored', { signal, reason: 'SIG_IGN' });
      continue;
    }
    if (d.kind === 'handler') {
      if (d.action === 'external') continue;
      return { signal, info, disposition: d };
    }
    if (proc.unkillable && !isKernelOnly(signal)) continue;
    switch (defaultAction(signal)) {
      case 'ignore':
      case 'cont':
        continue;
      case 'stop':
        if (signal !== 'SIGSTOP' && isPgrpOrphaned(world, proc.pgrp)) {
          world.record(proc, 'ignored', { signal, reason: 'orphaned process group' });
          continue;
        }
        stopProcess(world, proc, signal);
        return null;
      case 'term':
        exitGroup(world, proc, { kind: 'signaled', signal, core: false });
        return null;
      case 'core':
        exitGroup(world, proc, { kind: 'signaled', signal, core: world.options.coreDumps });
        return null;
    }
  }
}
