/**
 * Creating processes and threads (kernel/fork.c copy_process) and replacing a
 * program (fs/exec.c begin_new_exec, de_thread).
 */
import type { Errno } from '../kernel.js';
import { allocPid, MAX_PID_NS_LEVEL } from './pid-namespace.js';
import { Proc, SIG_DFL, Thread } from './process.js';
import type { ProgramDef, Step } from './programs.js';
import { passChildrenToSibling } from './reparent.js';
import { simAssert } from './sim-bug.js';
import type { World } from './world.js';

export interface ForkRequest {
  readonly name: string;
  readonly argv?: readonly string[];
  /** The program the child runs; null for the external process (pidone). */
  readonly program: ProgramDef | null;
  /** clone(CLONE_NEWPID): the child is the first process of a new namespace. */
  readonly newPidNs?: boolean;
  /** clone3 set_tid, innermost namespace first. */
  readonly setTid?: readonly number[];
  readonly external?: boolean;
  /** The forking thread (real_parent); default the parent's first live thread. */
  readonly thread?: Thread;
  /** clone(CLONE_PARENT): the child's parent is the caller's parent, not the caller. */
  readonly cloneParent?: boolean;
}

export type ForkResult = Proc | { readonly error: Errno };

/**
 * copy_process() for fork/clone without CLONE_THREAD. `parent` null creates the root
 * namespace's init (the kernel's init_task spawning PID 1).
 */
export function copyProcess(world: World, parent: Proc | null, req: ForkRequest): ForkResult {
  // The child's namespace comes from the forking thread's nsproxy (copy_namespaces).
  const forker = parent === null ? null : (req.thread ?? parent.aliveThread ?? parent.leader);
  let ns = forker === null ? world.rootNs : forker.nsForChildren;
  let created = false;
  // CLONE_PARENT: "prevent global and container-inits from creating siblings" (EINVAL
  // for SIGNAL_UNKILLABLE); the child's real_parent is the caller's real_parent.
  if (req.cloneParent && (parent === null || parent.unkillable || parent.parentThread === null)) return { error: 'EINVAL' };
  const realParent = req.cloneParent ? parent!.parentThread : forker;
  if (req.newPidNs) {
    // copy_pid_ns(): CLONE_NEWPID while pid_ns_for_children differs from the active
    // namespace (after unshare) is EINVAL; nesting past MAX_PID_NS_LEVEL is ENOSPC.
    if (parent !== null && forker!.nsForChildren !== parent.ns) return { error: 'EINVAL' };
    if (ns.level + 1 > MAX_PID_NS_LEVEL) return { error: 'ENOSPC' };
    ns = world.newNamespace(ns);
    created = true;
  }
  const pid = allocPid(ns, req.setTid);
  if ('error' in pid) return pid;

  const pgrp = parent?.pgrp ?? pid;
  const session = parent?.session ?? pid;
  const proc = new Proc(req.name, req.argv ?? [req.name], pid, pgrp, session, req.external ?? false);
  const thread = new Thread(pid, proc);
  proc.leader = thread;
  proc.threads = [thread];
  pid.thread = thread;
  pid.tgidOf = proc;
  pgrp.pgrpOf.add(proc);
  session.sessionOf.add(proc);
  if (parent === null) proc.sessionLeader = true;

  // is_child_reaper(): the first process of a namespace (number 1 at its own level)
  // becomes its child_reaper and SIGNAL_UNKILLABLE.
  if (pid.numbers[pid.level]!.nr === 1) {
    simAssert(ns.childReaper === null, `namespace ${ns.id} gets a second init`);
    ns.childReaper = proc;
    proc.unkillable = true;
  }
  if (parent !== null) {
    // fork copies the dispositions (sighand); exec will reset the handled ones.
    for (const [sig, d] of parent.dispositions) if (d.kind !== 'handler' || d.action !== 'external') proc.dispositions.set(sig, d);
    const rp = realParent!.proc;
    proc.hasChildSubreaper = rp.hasChildSubreaper || rp.isChildSubreaper;
    // copy_fs() and copy_signal(): the cwd and the OOM adjustment are inherited.
    proc.cwd = parent.cwd;
    proc.oomScoreAdj = parent.oomScoreAdj;
    proc.oomScoreAdjMin = parent.oomScoreAdjMin;
    proc.parentThread = realParent;
    rp.children.push(proc);
    parent.lastChild = proc;
  }
  proc.program = req.program;
  if (req.program !== null) startSteps(thread, req.program.steps);
  world.procs.add(proc);
  if (created) world.record(proc, 'ns-created', { ns: ns.id, level: ns.level });
  world.record(proc, 'fork', {
    parent: proc.parent?.tgid.nr() ?? 0,
    ...(forker !== null ? { forker: forker.pid.nr() } : {}),
    ...(req.cloneParent ? { caller: parent!.tgid.nr() } : {}),
    name: proc.name,
    ...(ns.level > 0 ? { ns: ns.id, vpid: pid.nrNs(ns) } : {}),
  });
  return proc;
}

/** clone(CLONE_THREAD|CLONE_VM|CLONE_SIGHAND): a new task in the same thread group. */
export function cloneThread(world: World, proc: Proc, steps: readonly Step[], creator?: Thread): Thread | { readonly error: Errno } {
  // copy_process(): a thread cannot be created once the creating thread's
  // pid_ns_for_children differs from the active namespace (after unshare(CLONE_NEWPID)).
  if ((creator ?? proc.leader).nsForChildren !== proc.ns) return { error: 'EINVAL' };
  const pid = allocPid(proc.ns);
  if ('error' in pid) return pid;
  const thread = new Thread(pid, proc);
  pid.thread = thread;
  proc.threads.push(thread);
  startSteps(thread, steps);
  world.record(thread, 'thread', { tgid: proc.tgid.nr() });
  world.wake(thread);
  return thread;
}

/**
 * complete_vfork_done() from mm_release(): the task created with CLONE_VFORK execs or
 * exits, and the parent thread waiting in wait_for_vfork_done() runs again. Nothing
 * when that thread is gone (a fatal signal ended its wait: child->vfork_done = NULL).
 */
export function completeVfork(world: World, task: Thread): void {
  const waiter = task.vforkDone;
  task.vforkDone = null;
  if (waiter === null || waiter.state !== 'alive' || waiter.block?.kind !== 'vfork') return;
  waiter.block = null;
  world.record(waiter, 'vfork-done', { child: task.proc.tgid.nr() });
  world.wake(waiter);
}

export function startSteps(thread: Thread, steps: readonly Step[]): void {
  thread.frames = [{ steps, index: 0, loopsLeft: 0, handler: false, resume: null }];
  thread.block = null;
}

/**
 * execve(2) succeeding: de_thread() ends every other thread (the exec'ing thread
 * takes over the leader's pid), handled signals go back to SIG_DFL while ignored ones
 * stay ignored (execve(2)), and PF_FORKNOEXEC is cleared (so setpgid(2) by the
 * parent now fails with EACCES). Returns the errno when the program cannot be executed.
 */
export function execProgram(world: World, thread: Thread, program: ProgramDef | undefined, name: string): Errno | null {
  if (program === undefined) return 'ENOENT';
  if (program.execError !== undefined) return program.execError;
  const proc = thread.proc;
  const leader = proc.leader;
  // exec_mm_release(): a vfork parent waits no more (the leader's task is the vfork
  // child's, whichever thread execs: de_thread ends the leader otherwise).
  completeVfork(world, leader);
  // de_thread(): every other thread exits, and each one's children go to the exec'ing
  // thread (forget_original_parent -> find_alive_thread), appended after its own, with
  // their parent-death signals. The exec'ing thread then takes over the leader's pid;
  // here the leader's Thread object stands for it, with its pid_ns_for_children and
  // pdeath_signal.
  const others = [...proc.threads].filter((t) => t !== thread);
  if (thread !== leader) others.unshift(...(leader.state === 'exited' ? [leader] : []));
  for (const t of others) passChildrenToSibling(world, t, thread);
  for (const c of proc.children) if (c.parentThread === thread) c.parentThread = leader;
  if (thread !== leader) {
    leader.nsForChildren = thread.nsForChildren;
    leader.pdeathSignal = thread.pdeathSignal;
  }
  for (const t of [...proc.threads]) {
    if (t === proc.leader) continue;
    t.state = 'exited';
    releaseThread(world, t);
  }
  leader.state = 'alive';
  proc.threads = [leader];
  // flush_signal_handlers(): handlers go back to SIG_DFL and every sa_flags (SA_NOCLDWAIT) is cleared.
  for (const [sig, d] of proc.dispositions) if (d.kind === 'handler' || (d.kind === 'default' && d.noCldWait)) proc.dispositions.set(sig, SIG_DFL);
  proc.forkNoExec = false;
  proc.program = program;
  proc.name = name;
  startSteps(leader, program.steps);
  world.record(proc, 'exec', { program: program.name });
  world.wake(leader);
  return null;
}

/** release_task() of a non-leader thread (autoreaped at exit: exit_notify's "untraced sub-thread"). */
export function releaseThread(world: World, thread: Thread): void {
  simAssert(!thread.isLeader, 'releasing a leader thread on its own');
  thread.proc.threads = thread.proc.threads.filter((t) => t !== thread);
  if (thread.wakeTimer) world.clock.cancel(thread.wakeTimer);
  thread.pid.thread = null;
  world.maybeFree(thread.pid);
}
