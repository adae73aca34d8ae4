/**
 * Runs scripted threads: takes their signals (get_signal), then their steps, until
 * each blocks (sleep, pause, wait), stops, or exits. Every system call a step makes
 * goes through the same kernel paths as pidone's own calls; a failing one is recorded
 * as an 'error' event with its errno and the script goes on, as a C program that
 * prints perror() would.
 */
import type { Errno } from '../kernel.js';
import { execFailureCode } from '../../exit-status.js';
import type { SignalName } from '../../signals.js';
import { exitGroup, exitThread, waitChild, waitidSpec, waitSpec } from './exit.js';
import { cloneThread, copyProcess, execProgram } from './fork.js';
import { setpgid, setsid } from './groups.js';
import { MAX_PID_NS_LEVEL } from './pid-namespace.js';
import { describeExit, SIG_DFL, SIG_IGN, type Block, type Proc, type Thread, type WaitOptions, type WaitSpec } from './process.js';
import { expandDoubleFork, programName, stepKind, type ProcRef, type ProgramDef, type ProgramRef, type Step } from './programs.js';
import type { SigInfo } from './pending-signals.js';
import { setChildSubreaper } from './reparent.js';
import { SimBug } from './sim-bug.js';
import { getSignal, isKernelOnly, isValidSignal, killFrom, tgkillFrom } from './signal-delivery.js';
import type { World } from './world.js';

/** Steps one thread may take in one turn before the simulator calls it a runaway loop. */
const STEP_BUDGET = 1_000_000;

export function runThread(world: World, thread: Thread): void {
  const proc = thread.proc;
  let budget = STEP_BUDGET;
  for (;;) {
    if (thread.state !== 'alive') return;
    // wait_for_vfork_done() sleeps TASK_KILLABLE: only a fatal signal (the group exit
    // complete_signal starts, waking with SIGKILL) gets it out; anything else stays
    // pending until the child execs or exits.
    if (thread.block?.kind === 'vfork' && proc.groupExit === null) return;
    // The first live thread takes the process-directed signals (complete_signal prefers the main thread).
    if (proc.groupExit !== null || proc.threads[0] === thread || thread.pending.size > 0) {
      const delivery = getSignal(world, thread, proc.groupExit !== null || proc.threads[0] === thread);
      if (thread.state !== 'alive') return;
      if (delivery !== null) {
        runHandler(world, thread, delivery.signal, delivery.disposition, delivery.info);
        continue;
      }
    }
    if (proc.state === 'stopped' || proc.external) return;
    if (thread.block !== null && !unblock(world, thread)) return;
    if (--budget < 0) throw new SimBug(`${proc.name} (${proc.tgid.nr()}) ran ${STEP_BUDGET} steps without blocking`);
    step(world, thread);
  }
}

/** Is the thread's block over? A finished wait records its result. */
function unblock(world: World, thread: Thread): boolean {
  const block = thread.block!;
  switch (block.kind) {
    case 'sleep':
      if (world.clock.now() < block.until) return false;
      break;
    case 'pause':
    case 'vfork':
      return false;
    case 'wait': {
      const outcome = waitOnce(world, thread, block.spec, block.options);
      if (outcome === 'none') return false;
      break;
    }
  }
  thread.block = null;
  if (thread.wakeTimer) {
    world.clock.cancel(thread.wakeTimer);
    thread.wakeTimer = null;
  }
  return true;
}

/** waitpid(target, WNOHANG) from a script, recording what it got. */
function waitOnce(world: World, thread: Thread, target: WaitSpec, options?: WaitOptions): 'done' | 'none' {
  const outcome = waitChild(world, thread.proc, target, thread, options);
  if (outcome.kind === 'none') return 'none';
  // Recorded on the calling thread: two threads of one process may wait at once.
  if (outcome.kind === 'echild') fail(world, thread, 'waitpid', 'ECHILD');
  else if (outcome.kind === 'job') {
    world.record(thread, 'waited', { child: outcome.pid, status: outcome.stopped !== null ? `stopped ${outcome.stopped}` : 'continued' });
  } else world.record(thread, 'waited', { child: outcome.pid, status: describeExit(outcome.status) });
  return 'done';
}

function runHandler(
  world: World,
  thread: Thread,
  signal: SignalName,
  d: { action: string; code?: number; run?: readonly Step[]; noRestart?: boolean },
  info: SigInfo | null = null,
): void {
  const proc = thread.proc;
  // The siginfo an SA_SIGINFO handler gets: si_code, si_pid (receiver's namespace), and
  // for SIGCHLD si_status.
  const siginfo = info === null ? {} : { code: info.code, from: info.pid, ...(info.status !== undefined ? { status: info.status } : {}) };
  world.record(thread, 'caught', { signal, action: d.run ? 'run' : d.action, tgid: proc.tgid.nr(), ...siginfo });
  if (d.run) {
    thread.frames.push({ steps: d.run, index: 0, loopsLeft: 0, handler: true, resume: thread.block, ...(d.noRestart ? { noRestart: true } : {}) });
    thread.block = null;
    return;
  }
  thread.block = afterHandler(world, thread, thread.block, d.noRestart === true);
  if (d.action === 'exit') exitGroup(world, proc, { kind: 'exited', code: (d.code ?? 0) & 0xff });
  else if (d.action === 'reap') while (waitChild(world, proc, -1).kind === 'status');
}

/** A failed system call, recorded on the thread that made it (errno is per thread). */
function fail(world: World, who: Proc | Thread, syscall: string, errno: Errno): void {
  world.record(who, 'error', { syscall, errno });
}

function resolveProgram(world: World, ref: ProgramRef, parentName: string): ProgramDef | undefined {
  if (typeof ref === 'string') return world.program(ref);
  return { name: parentName, steps: ref };
}

/**
 * A ProcRef as a number in `proc`'s namespace (see programs.ts); null when a named
 * process does not exist or cannot be seen from there.
 */
export function resolveRef(world: World, proc: Proc, ref: ProcRef): number | null {
  if (typeof ref === 'number') return ref;
  const ns = proc.ns;
  if (ref === 'self') return proc.tgid.nrNs(ns);
  if (ref === 'parent') return proc.parent?.tgid.nrNs(ns) ?? 0;
  if (ref === 'child') return proc.lastChild?.tgid.nrNs(ns) ?? null;
  const visible = [...world.procs].filter((p) => p.name === ref && p.tgid.nrNs(ns) !== 0);
  const target = visible.find((p) => p.live) ?? visible[0];
  return target ? target.tgid.nrNs(ns) : null;
}

function step(world: World, thread: Thread): void {
  const proc = thread.proc;
  const frame = thread.frames[thread.frames.length - 1];
  if (frame === undefined) {
    // Off the end of the program: return from main() is exit_group(0); a thread's
    // start routine returning is exit(0).
    if (thread.isLeader) exitGroup(world, proc, { kind: 'exited', code: 0 });
    else exitThread(world, thread, 0);
    return;
  }
  if (frame.index >= frame.steps.length) {
    if (frame.loopsLeft > 0) {
      frame.loopsLeft--;
      frame.index = 0;
      return;
    }
    thread.frames.pop();
    if (frame.handler) thread.block = afterHandler(world, thread, frame.resume, frame.noRestart === true);
    return;
  }
  const s = frame.steps[frame.index++]!;
  execStep(world, thread, s);
}

/**
 * Back to the call a handler interrupted. SA_RESTART restarts a wait from the start
 * (-ERESTARTSYS), so kernel_wait4 reads its arguments again: wait(0) takes the
 * caller's group as it is now.
 */
function restart(block: Block | null, proc: Proc): Block | null {
  if (block?.kind !== 'wait') return block;
  const spec = block.idtype !== undefined ? waitidSpec(proc, block.idtype, block.target) : waitSpec(proc, block.target);
  return typeof spec === 'string' ? block : { ...block, spec };
}

/**
 * What the interrupted call does when the handler returns: restarted with SA_RESTART
 * (restart() above), or, for a wait, -EINTR without it (-ERESTARTSYS becomes -EINTR
 * in handle_signal when SA_RESTART is not set). A sleep or pause goes on either way
 * (not modelled: on Linux they return early).
 */
function afterHandler(world: World, thread: Thread, block: Block | null, noRestart: boolean): Block | null {
  if (block?.kind === 'wait' && noRestart) {
    fail(world, thread, 'waitpid', 'EINTR');
    return null;
  }
  return restart(block, thread.proc);
}

function setBlock(world: World, thread: Thread, block: Block): void {
  thread.block = block;
  if (block.kind === 'sleep') thread.wakeTimer = world.clock.at(block.until, () => world.wake(thread));
}

function execStep(world: World, thread: Thread, s: Step): void {
  const proc = thread.proc;
  const kind = stepKind(s);
  switch (kind) {
    case 'fork': {
      const { fork, as, exec = true, newPidNs = false, cloneParent = false, setTid, vfork = false } = s as Extract<Step, { fork: unknown }>;
      const program = resolveProgram(world, fork, proc.name);
      const name = as ?? programName(fork, proc.name);
      const child = copyProcess(world, proc, { name, program: program ?? { name, steps: [] }, newPidNs, thread, cloneParent, ...(setTid !== undefined ? { setTid } : {}) });
      if ('error' in child) return fail(world, thread, 'fork', child.error);
      if (vfork) {
        // kernel_clone(): CLONE_VFORK sets the child's vfork_done and the caller waits
        // (wait_for_vfork_done) until the child execs or exits.
        child.leader.vforkDone = thread;
        thread.block = { kind: 'vfork', child };
      }
      if (exec || program === undefined) {
        const errno = execProgram(world, child.leader, program, name);
        if (errno !== null) {
          world.record(child, 'exec-failed', { program: typeof fork === 'string' ? fork : name, errno });
          // The child ends as a shell does after a failed exec (bash(1) "EXIT STATUS"), by
          // the rule pidone's own exit code follows: 127 when nothing was found, 126 otherwise.
          exitGroup(world, child, { kind: 'exited', code: execFailureCode(errno) });
        }
      } else {
        world.wake(child.leader);
      }
      return;
    }
    case 'exit':
      return exitGroup(world, proc, { kind: 'exited', code: (s as { exit: number }).exit & 0xff });
    case 'threadExit':
      return exitThread(world, thread, (s as { threadExit: number }).threadExit & 0xff);
    case 'sleep':
      return setBlock(world, thread, { kind: 'sleep', until: world.clock.now() + Math.max(0, (s as { sleep: number }).sleep) });
    case 'pause':
      return setBlock(world, thread, { kind: 'pause' });
    case 'on': {
      const h = s as Extract<Step, { on: unknown }>;
      if (!isValidSignal(h.on) || isKernelOnly(h.on)) return fail(world, thread, 'sigaction', 'EINVAL');
      proc.dispositions.set(h.on, {
        kind: 'handler',
        action: h.do ?? 'record',
        ...(h.code !== undefined ? { code: h.code } : {}),
        ...(h.run !== undefined ? { run: h.run } : {}),
        ...(h.noCldWait === true ? { noCldWait: true } : {}),
        ...(h.restart === false ? { noRestart: true } : {}),
        ...(h.noCldStop === true ? { noCldStop: true } : {}),
      });
      return;
    }
    case 'ignore':
    case 'default': {
      const signal = kind === 'ignore' ? (s as { ignore: SignalName }).ignore : (s as { default: SignalName }).default;
      if (!isValidSignal(signal) || isKernelOnly(signal)) return fail(world, thread, 'sigaction', 'EINVAL');
      const noCldWait = kind === 'default' && (s as { noCldWait?: boolean }).noCldWait === true;
      proc.dispositions.set(signal, kind === 'ignore' ? SIG_IGN : noCldWait ? { kind: 'default', noCldWait } : SIG_DFL);
      // do_sigaction(): a pending signal that is now ignored is discarded, from the
      // shared list and every thread's.
      if (kind === 'ignore') {
        proc.pending.remove(signal);
        for (const t of proc.threads) t.pending.remove(signal);
      }
      return;
    }
    case 'setsid': {
      const r = setsid(world, proc);
      if (typeof r !== 'number') fail(world, thread, 'setsid', r.error);
      return;
    }
    case 'setpgid': {
      const { pid, pgid } = (s as Extract<Step, { setpgid: unknown }>).setpgid;
      const p = resolveRef(world, proc, pid);
      const g = resolveRef(world, proc, pgid);
      if (p === null || g === null) return fail(world, thread, 'setpgid', 'ESRCH');
      const errno = setpgid(world, proc, p, g);
      if (errno !== null) fail(world, thread, 'setpgid', errno);
      return;
    }
    case 'kill': {
      const { kill, signal, group = false } = s as Extract<Step, { kill: unknown }>;
      let target = resolveRef(world, proc, kill);
      if (target === null) return fail(world, thread, 'kill', 'ESRCH');
      if (group) {
        if (typeof kill === 'string') {
          const p = world.findProc(target, proc.ns);
          if (p === null) return fail(world, thread, 'kill', 'ESRCH');
          target = -p.pgrp.nrNs(proc.ns);
        } else {
          target = -Math.abs(target);
        }
      }
      const errno = killFrom(world, proc, target, signal);
      if (errno !== null) fail(world, thread, 'kill', errno);
      return;
    }
    case 'tgkill': {
      const { tgkill, signal } = s as Extract<Step, { tgkill: unknown }>;
      const tgid = resolveRef(world, proc, tgkill.tgid);
      if (tgid === null) return fail(world, thread, 'tgkill', 'ESRCH');
      const errno = tgkillFrom(world, proc, tgid, tgkill.tid, signal);
      if (errno !== null) fail(world, thread, 'tgkill', errno);
      return;
    }
    case 'wait': {
      const w = s as Extract<Step, { wait: unknown }>;
      const { wait, nohang = false, group = false, idtype } = w;
      const syscall = idtype !== undefined ? 'waitid' : 'waitpid';
      let target = resolveRef(world, proc, wait);
      if (target === null) return fail(world, thread, syscall, 'ECHILD');
      if (group) {
        const p = typeof wait === 'string' ? world.findProc(target, proc.ns) : null;
        target = p ? -p.pgrp.nrNs(proc.ns) : -Math.abs(target);
      }
      // waitpid always has WEXITED; waitid needs one of WEXITED, WSTOPPED, WCONTINUED.
      const options: WaitOptions = {
        exited: idtype === undefined || w.exited === true,
        stopped: w.untraced === true,
        continued: w.continued === true,
        nowait: idtype !== undefined && w.nowait === true,
      };
      if (idtype !== undefined && !options.exited && !options.stopped && !options.continued) return fail(world, thread, syscall, 'EINVAL');
      const spec = idtype !== undefined ? waitidSpec(proc, idtype, target) : waitSpec(proc, target);
      if (typeof spec === 'string') return fail(world, thread, syscall, spec);
      if (nohang) {
        if (waitOnce(world, thread, spec, options) === 'none') world.record(thread, 'waited', { child: 0, status: 'none (WNOHANG)' });
        return;
      }
      return setBlock(world, thread, { kind: 'wait', target, spec, options, ...(idtype !== undefined ? { idtype } : {}) });
    }
    case 'thread': {
      const ref = (s as { thread: ProgramRef }).thread;
      const program = resolveProgram(world, ref, proc.name);
      if (program === undefined) return fail(world, thread, 'clone', 'ENOENT');
      const t = cloneThread(world, proc, program.steps, thread);
      if ('error' in t) fail(world, thread, 'clone', t.error);
      return;
    }
    case 'unshare': {
      // unshare(CLONE_NEWPID): EINVAL when already unshared (pid_ns_for_children is
      // not the active namespace), ENOSPC past MAX_PID_NS_LEVEL.
      // Per thread: the calling thread gets a new nsproxy (unshare_nsproxy_namespaces,
      // switch_task_namespaces(current, ...)); its siblings keep theirs.
      if (thread.nsForChildren !== proc.ns) return fail(world, thread, 'unshare', 'EINVAL');
      if (proc.ns.level + 1 > MAX_PID_NS_LEVEL) return fail(world, thread, 'unshare', 'ENOSPC');
      thread.nsForChildren = world.newNamespace(proc.ns);
      world.record(thread, 'unshare', { ns: thread.nsForChildren.id, level: thread.nsForChildren.level });
      return;
    }
    case 'setns': {
      // pidfd_open(pid): ESRCH unless the number is in use in the caller's namespace,
      // ENOENT when it names a thread, not a thread group (no PIDTYPE_TGID task). setns(pidfd, CLONE_NEWPID): validate_nsset
      // takes the task's nsproxy, gone once the task has exited (ESRCH); pidns_install
      // accepts only the caller's active namespace or one below it (EINVAL), and sets
      // the calling thread's pid_ns_for_children.
      const nr = resolveRef(world, proc, (s as { setns: ProcRef }).setns);
      const pid = nr !== null && nr > 0 ? proc.ns.find(nr) : undefined;
      if (pid === undefined || pid.freed || (pid.tgidOf === null && pid.thread === null)) return fail(world, thread, 'pidfd_open', 'ESRCH');
      if (pid.tgidOf === null) return fail(world, thread, 'pidfd_open', 'ENOENT');
      const target = pid.tgidOf;
      if (target.leader.state !== 'alive') return fail(world, thread, 'setns', 'ESRCH');
      if (!proc.ns.contains(target.ns)) return fail(world, thread, 'setns', 'EINVAL');
      thread.nsForChildren = target.ns;
      world.record(thread, 'setns', { ns: target.ns.id, level: target.ns.level });
      return;
    }
    case 'exec': {
      const name = (s as { exec: string }).exec;
      const errno = execProgram(world, thread, world.program(name), name);
      if (errno !== null) fail(world, thread, 'execve', errno);
      return;
    }
    case 'subreaper':
      return setChildSubreaper(world, proc, (s as { subreaper: boolean }).subreaper);
    case 'pdeathsig': {
      const signal = (s as { pdeathsig: SignalName }).pdeathsig;
      if (!isValidSignal(signal)) return fail(world, thread, 'prctl', 'EINVAL');
      // prctl(PR_SET_PDEATHSIG) sets current->pdeath_signal: the calling thread's.
      thread.pdeathSignal = signal;
      return;
    }
    case 'doubleFork': {
      const { doubleFork, as } = s as Extract<Step, { doubleFork: unknown }>;
      thread.frames.push({ steps: expandDoubleFork(doubleFork, as), index: 0, loopsLeft: 0, handler: false, resume: null });
      return;
    }
    case 'repeat': {
      const { repeat, steps } = s as Extract<Step, { repeat: unknown }>;
      if (repeat > 0) thread.frames.push({ steps, index: 0, loopsLeft: repeat - 1, handler: false, resume: null });
      return;
    }
    case 'report': {
      const ns = proc.ns;
      world.record(thread, 'report', {
        label: (s as { report: string }).report,
        getpid: proc.tgid.nrNs(ns),
        gettid: thread.pid.nrNs(ns),
        getppid: proc.parent?.tgid.nrNs(ns) ?? 0,
        getpgrp: proc.pgrp.nrNs(ns),
        getsid: proc.session.nrNs(ns),
      });
      return;
    }
    case 'note':
      world.record(proc, 'note', { text: (s as { note: string }).note });
      return;
  }
}
