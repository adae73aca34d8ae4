/**
 * The corpus: hand-written scenarios, one per rule of the model (docs/simulator.md,
 * "What is modelled", and the kernel rules behind them). Each runs on the real kernel and on the simulator and
 * the records must be equal (corpus.test.ts). Add one per rule, and one for every
 * divergence found and fixed, so it stays fixed (docs/differential.md).
 */
import { scenario, type Scenario } from './script.js';

export const CORPUS: readonly Scenario[] = [
  // ---- pid numbers and namespaces (struct pid, alloc_pid, pid_namespaces(7)) ----------
  scenario('ns-first-pid-is-1', 'the first process of a PID namespace is PID 1; its parent outside is ppid 0', `
    p1 report
    p1 fork p2
    p2 report`),
  scenario('pid-sequential', 'alloc_pid hands out numbers in order in a fresh namespace', `
    p1 fork p2
    p1 fork p3
    p2 fork p4
    p4 report`),
  scenario('pid-cyclic-not-lowest', 'idr_alloc_cyclic: a freed number is not reused before the cursor wraps', `
    p1 fork p2
    p2 exit 0
    p1 wait p2
    p1 fork p3
    p3 report`),
  scenario('threads-consume-pids', 'a thread gets its own pid number (gettid) from the same allocator', `
    p1 thread t1
    p1 fork p2
    t1 report
    p2 report`),
  scenario('getpid-is-tgid', 'getpid() is the thread group id in every thread; getppid() is the process parent', `
    p1 fork p2
    p2 thread t1
    t1 report
    p2 report`),
  scenario('nested-ns-numbers', 'a struct pid has one number per level: the child of a new namespace is 1 inside, 2 in its parent', `
    p1 fork p2 newns
    p2 report
    p2 fork p3
    p3 report
    p1 fork p4
    p4 report`),
  scenario('three-levels', 'numbers at each of three nested levels', `
    p1 fork p2 newns
    p2 fork p3 newns
    p3 fork p4
    p4 report
    p3 report`),
  scenario('unshare-next-children', 'unshare(CLONE_NEWPID): the caller stays, its next child is PID 1 of the new namespace, later ones follow', `
    p1 unshare
    p1 report
    p1 fork p2
    p1 fork p3
    p2 report
    p3 report`),
  scenario('unshare-twice-einval', 'unshare(CLONE_NEWPID) again before forking is EINVAL (pid_ns_for_children differs from the active namespace)', `
    p1 unshare
    p1 unshare
    p1 fork p2
    p2 report`),
  scenario('newns-after-unshare-einval', 'clone(CLONE_NEWPID) after unshare(CLONE_NEWPID) is EINVAL', `
    p1 unshare
    p1 fork p2 newns`),
  scenario('thread-after-unshare-einval', 'no thread can be created once pid_ns_for_children differs from the active namespace', `
    p1 unshare
    p1 thread t1`),
  scenario('pgid-sid-invisible-is-0', 'group and session ids outside the caller\'s namespace read as 0', `
    p1 setsid
    p1 fork p2 newns
    p2 report
    p2 setsid
    p2 report`),
  scenario('parent-sees-child-ns', 'an ancestor namespace sees and signals processes below it by its own numbers', `
    p1 fork p2 newns
    p2 fork p3
    p3 trap USR1
    p1 kill p3 USR1
    p1 kill 99 USR1`),
  scenario('child-ns-cannot-name-parent', 'from inside a namespace, numbers name only processes of that namespace', `
    p1 fork p2 newns
    p2 fork p3
    p2 kill 3 0
    p2 kill 2 0`),
  scenario('lastpid-sets-cursor', 'ns_last_pid moves the allocator of the writer\'s namespace', `
    p1 lastpid 500
    p1 fork p2
    p2 report`),
  scenario('pid-wrap-reserved', 'after pid_max the allocator wraps to RESERVED_PIDS (300), skipping numbers in use', `
    p1 fork p2
    p1 lastpid max-2
    p1 fork p3
    p1 fork p4
    p1 fork p5
    p5 report`),
  scenario('pgid-holds-number', 'a process group id is not reused as a pid while the group has members, even after its leader was reaped', `
    p1 fork p2
    p2 setpgid 0 0
    p2 fork p3
    p2 exit 0
    p1 wait p2
    p1 lastpid 1
    p1 fork p4
    p4 report`),

  // ---- zombies and wait(2) -------------------------------------------------------------
  scenario('zombie-until-reaped', 'a dead process stays a zombie until its parent waits', `
    p1 fork p2
    p2 exit 7
    p1 wait p2 nohang
    p1 wait p2 nohang`),
  scenario('wait-nohang-none', 'WNOHANG with a live child returns 0; with no child ECHILD', `
    p1 wait -1 nohang
    p1 fork p2
    p1 wait -1 nohang
    p1 wait p2 nohang`),
  scenario('wait-not-a-child', 'waitpid for a grandchild is ECHILD', `
    p1 fork p2
    p2 fork p3
    p3 exit 1
    p1 wait p3 nohang
    p2 wait p3 nohang`),
  scenario('wait-by-group', 'waitpid(-pgid) and waitpid(0) select children by process group', `
    p1 fork p2
    p1 fork p3
    p3 setpgid 0 0
    p2 exit 2
    p3 exit 3
    p1 wait -p3 nohang
    p1 wait 0 nohang
    p1 wait -1 nohang`),
  scenario('wait-blocks-until-exit', 'a blocking wait returns when the child exits', `
    p1 fork p2
    p1 fork p3
    p1 wait p2
    p3 report
    p2 exit 4`),
  scenario('wait-signal-status', 'a signal death is reported as such by wait', `
    p1 fork p2
    p1 kill p2 TERM
    p1 wait p2 nohang
    p1 fork p3
    p1 kill p3 QUIT
    p1 wait p3 nohang`),
  scenario('sigchld-ignored-autoreap', 'with SIGCHLD ignored children are reaped at exit and wait gives ECHILD', `
    p1 ignore CHLD
    p1 fork p2
    p2 exit 1
    p1 wait -1 nohang`),
  scenario('sigchld-on-exit', 'a child\'s exit sends SIGCHLD to the parent (do_notify_parent)', `
    p1 trap CHLD
    p1 fork p2
    p2 exit 0
    p1 wait p2 nohang`),
  scenario('zombie-leader-live-threads', 'a leader that exits first stays a zombie until its last thread ends; wait reports the leader\'s code', `
    p1 fork p2
    p2 thread t1
    p2 threadexit 5
    p1 wait p2 nohang
    t1 report
    t1 threadexit 7
    p1 wait p2 nohang`),
  scenario('exit-group-from-thread', 'exit_group from any thread ends the whole process with that code', `
    p1 fork p2
    p2 thread t1
    p2 thread t2
    t1 exit 3
    p1 wait p2 nohang`),
  scenario('exec-ends-threads', 'execve ends every other thread (de_thread)', `
    p1 fork p2
    p2 thread t1
    p2 exec
    p2 report`),
  scenario('exec-resets-handlers', 'execve resets handled signals to SIG_DFL and keeps ignored ones ignored', `
    p1 fork p2
    p2 trap USR1
    p2 ignore USR2
    p2 exec
    p1 kill p2 USR2
    p1 kill p2 USR1
    p1 wait p2 nohang`),

  // ---- reparenting (find_new_reaper) ----------------------------------------------
  scenario('orphan-to-ns-init', 'an orphan goes to the init of its own namespace', `
    p1 fork p2
    p2 fork p3
    p2 exit 0
    p3 report`),
  scenario('orphan-to-subreaper', 'an orphan goes to the nearest live subreaper ancestor', `
    p1 fork p2
    p2 subreaper
    p2 fork p3
    p3 fork p4
    p3 exit 0
    p4 report`),
  scenario('nearest-subreaper-wins', 'of two subreaper ancestors the nearer adopts', `
    p1 fork p2
    p2 subreaper
    p2 fork p3
    p3 subreaper
    p3 fork p4
    p4 fork p5
    p4 exit 0
    p3 exit 0
    p5 report`),
  scenario('subreaper-off', 'PR_SET_CHILD_SUBREAPER 0 stops adopting', `
    p1 fork p2
    p2 subreaper
    p2 fork p3
    p3 fork p4
    p2 subreaper off
    p3 exit 0
    p4 report`),
  scenario('subreaper-not-across-ns', 'a subreaper in an ancestor namespace never adopts: the namespace init does', `
    p1 subreaper
    p1 fork p2 newns
    p2 fork p3
    p3 fork p4
    p3 exit 0
    p4 report`),
  scenario('zombie-reparented', 'a zombie whose parent dies is handed to the new parent, which gets SIGCHLD and reaps it', `
    p1 trap CHLD
    p1 fork p2
    p2 fork p3
    p3 exit 6
    p2 exit 0
    p1 wait p2 nohang
    p1 wait p3 nohang`),
  scenario('pdeathsig-caught', 'PR_SET_PDEATHSIG: the orphan gets the signal when its parent dies', `
    p1 fork p2
    p2 fork p3
    p3 trap USR1
    p3 pdeathsig USR1
    p2 exit 0
    p3 report`),
  scenario('pdeathsig-kills', 'a default-action parent-death signal kills the orphan', `
    p1 fork p2
    p2 fork p3
    p3 pdeathsig TERM
    p2 exit 0
    p1 wait p3 nohang`),

  // ---- namespace init and its death ------------------------------------------------
  scenario('ns-init-ignores-unhandled', 'a namespace init ignores signals it has no handler for, sent from inside', `
    p1 fork p2 newns
    p2 fork p3
    p3 kill 1 TERM
    p3 kill 1 KILL
    p3 kill 1 STOP
    p2 report`),
  scenario('ns-init-handler-runs', 'a namespace init receives signals it has a handler for', `
    p1 fork p2 newns
    p2 trap TERM
    p2 fork p3
    p3 kill 1 TERM`),
  scenario('ns-init-killed-from-ancestor', 'SIGKILL from an ancestor namespace kills a namespace init, and its namespace with it', `
    p1 fork p2 newns
    p2 fork p3
    p3 fork p4
    p1 kill p2 TERM
    p1 kill p2 KILL
    p1 wait p2 nohang`),
  scenario('ns-init-death-zaps', 'when a namespace init exits, everything in the namespace is killed', `
    p1 fork p2 newns
    p2 fork p3
    p3 trap TERM
    p3 fork p4 newns
    p2 exit 9
    p1 wait p2 nohang`),
  scenario('fork-into-dead-ns-enomem', 'after the init of a namespace died, fork into it fails with ENOMEM', `
    p1 unshare
    p1 fork p2
    p1 fork p3
    p2 exit 0
    p1 fork p4
    p1 wait p3 nohang`),
  scenario('zap-waits-for-outside-zombie', 'a dying init waits until zombies of parents outside its namespace are reaped', `
    p1 unshare
    p1 fork p2
    p1 fork p3
    p3 exit 3
    p2 exit 0
    p1 wait p3 nohang
    p1 wait p2 nohang`),
  scenario('zap-waits-for-group-id', 'a dying init also waits while its pid lives on as the process group of an outside process', `
    p1 unshare
    p1 fork p2
    p2 setpgid 0 0
    p1 setpgid 0 p2
    p2 exit 0
    p1 report
    p1 setpgid 0 0
    p1 wait p2 nohang`),
  scenario('top-init-death', 'the first process exiting takes its whole namespace down', `
    p1 fork p2
    p2 fork p3
    p1 thread t1
    p1 exit 5`),

  // ---- kill(2) --------------------------------------------------------------------
  scenario('kill-minus-one-spares-sender-and-init', 'kill(-1) signals every process the sender can see except itself and init', `
    p1 trap USR1
    p1 fork p2
    p1 fork p3
    p2 fork p4
    p3 trap USR1
    p4 trap USR1
    p2 trap USR1
    p2 kill -1 USR1`),
  scenario('kill-minus-one-from-init', 'kill(-1) from init reaches everything else in the namespace', `
    p1 fork p2
    p1 fork p3 newns
    p3 fork p4
    p1 kill -1 TERM`),
  scenario('kill-minus-one-esrch', 'kill(-1) with nobody to signal is ESRCH', `
    p1 kill -1 TERM`),
  scenario('kill-group', 'kill(0) and kill(-pgid) signal the whole group', `
    p1 fork p2
    p2 setpgid 0 0
    p2 trap USR1
    p2 fork p3
    p3 trap USR1
    p1 kill -p2 USR1
    p3 kill 0 USR2
    p1 wait -1 nohang`),
  scenario('kill-esrch-and-sig0', 'kill of an unknown pid is ESRCH; signal 0 finds a zombie', `
    p1 kill 42 0
    p1 fork p2
    p2 exit 0
    p1 kill p2 0
    p1 kill -p2 0`),
  scenario('kill-tid-signals-process', 'kill(2) of a thread id signals its whole thread group', `
    p1 fork p2
    p2 thread t1
    p2 trap USR1
    p1 kill t1 USR1
    p1 kill t1 TERM
    p1 wait p2 nohang`),
  scenario('trap-kill-stop-einval', 'SIGKILL and SIGSTOP cannot be caught or ignored', `
    p1 trap KILL
    p1 ignore STOP`),

  // ---- process groups and sessions (setpgid(2), setsid(2)) ------------------------
  scenario('setsid-leader-eperm', 'setsid by a session leader is EPERM', `
    p1 fork p2
    p2 setsid
    p2 setsid
    p2 report`),
  scenario('setsid-group-exists-eperm', 'setsid by a process group leader is EPERM', `
    p1 fork p2
    p2 setpgid 0 0
    p2 setsid`),
  scenario('setpgid-other-session-eperm', 'setpgid on a child in another session is EPERM', `
    p1 fork p2
    p2 setsid
    p1 setpgid p2 p2`),
  scenario('setpgid-after-exec-eacces', 'setpgid on a child that has exec\'d is EACCES', `
    p1 fork p2
    p1 setpgid p2 p2
    p2 exec
    p1 setpgid p2 0`),
  scenario('setpgid-not-child-esrch', 'setpgid on a process that is neither the caller nor its child is ESRCH', `
    p1 fork p2
    p2 fork p3
    p1 setpgid p3 p3
    p1 setpgid 99 0`),
  scenario('setpgid-session-leader-eperm', 'a session leader cannot change its group', `
    p1 fork p2
    p2 setsid
    p2 setpgid 0 0
    p2 fork p3
    p3 setpgid 0 p1`),
  scenario('setpgid-join-and-einval', 'joining a group of the same session works; a negative pgid or a thread id is EINVAL', `
    p1 fork p2
    p2 setpgid 0 0
    p1 fork p3
    p3 setpgid 0 p2
    p3 setpgid 0 -5
    p3 thread t1
    p1 setpgid t1 0
    p3 report`),
  scenario('setpgid-other-session-group-eperm', 'joining a group of another session is EPERM', `
    p1 fork p2
    p2 setsid
    p1 fork p3
    p3 setpgid 0 p2`),

  // ---- job control: stop, continue, orphaned groups --------------------------------
  scenario('stop-and-continue', 'SIGSTOP stops, SIGCONT continues; the parent gets SIGCHLD for both', `
    p1 trap CHLD
    p1 fork p2
    p1 kill p2 STOP
    p1 kill p2 CONT
    p2 report`),
  scenario('stopped-fatal-pending', 'a stopped process does not act on a fatal signal until SIGCONT; SIGKILL acts at once (divergence found and fixed)', `
    p1 fork p2
    p1 kill p2 STOP
    p1 kill p2 USR1
    p1 wait p2 nohang
    p1 kill p2 CONT
    p1 wait p2 nohang
    p1 fork p3
    p1 kill p3 STOP
    p1 kill p3 KILL
    p1 wait p3 nohang`),
  scenario('stopped-handler-pending', 'a handled signal to a stopped process runs when it is continued', `
    p1 fork p2
    p2 trap USR1
    p1 kill p2 STOP
    p1 kill p2 USR1
    p1 kill p2 CONT`),
  scenario('tstp-in-orphaned-group-discarded', 'SIGTSTP, SIGTTIN, SIGTTOU to an orphaned process group are discarded; SIGSTOP is not', `
    p1 fork p2
    p2 setsid
    p2 fork p3
    p2 kill p3 TSTP
    p2 kill p3 STOP`),
  scenario('tstp-stops-non-orphaned', 'SIGTSTP stops a process whose group has a parent in another group of the same session', `
    p1 fork p2
    p2 setsid
    p2 fork p3
    p3 setpgid 0 0
    p2 kill p3 TSTP
    p2 kill p3 CONT`),
  scenario('orphaned-stopped-group-hup', 'a group orphaned with stopped members gets SIGHUP then SIGCONT (kill_orphaned_pgrp)', `
    p1 fork p2
    p2 setsid
    p2 fork p3
    p3 setpgid 0 0
    p3 fork p4
    p2 kill -p3 STOP
    p2 exit 0`),
  scenario('orphaned-stopped-group-hup-handled', 'members that handle SIGHUP survive the orphaning and run on', `
    p1 fork p2
    p2 setsid
    p2 fork p3
    p3 setpgid 0 0
    p3 trap HUP
    p3 trap CONT
    p3 fork p4
    p2 kill -p3 STOP
    p2 exit 0
    p3 report`),
  scenario('orphaned-group-no-stopped', 'an orphaned group with no stopped member gets nothing', `
    p1 fork p2
    p2 setsid
    p2 fork p3
    p3 setpgid 0 0
    p3 trap HUP
    p2 exit 0
    p3 report`),

  // ---- blocking wait (kernel/exit.c do_wait, kernel_wait4) -------------------------
  scenario('wait-blocked-autoreap-echild', 'a parent blocked in wait gets ECHILD when its child is autoreaped (do_notify_parent wakes it even when it autoreaps: __wake_up_parent)', `
    p1 fork p2
    p1 ignore CHLD
    p1 wait p2
    p2 exit 0
    p1 report`),
  scenario('wait-blocked-autoreap-any', 'the same with wait(-1) and two children: the first autoreap leaves one to wait for, the second ends the wait with ECHILD', `
    p1 fork p2
    p1 fork p3
    p1 ignore CHLD
    p1 wait -1
    p2 exit 0
    p3 exit 0
    p1 report`),
  scenario('wait-blocked-autoreap-reparented', 'a zombie reparented to a waiter that ignores SIGCHLD is autoreaped by reparent_leader, which wakes the wait: ECHILD when nothing else is eligible', `
    p1 setsid
    p1 fork p2
    p1 fork p3
    p3 setpgid 0 0
    p3 fork p4
    p4 setpgid 0 p1
    p4 exit 0
    p1 ignore CHLD
    p1 wait 0
    p2 setpgid 0 0
    p3 exit 0
    p1 report`),
  scenario('wait-group-not-woken-by-leaver', 'wait(0) is woken only by a child in its group (child_wait_callback, eligible_pid): a child that left the group exits, the wait sleeps on', `
    p1 fork p2
    p1 wait 0
    p2 setpgid 0 0
    p2 exit 0
    p1 fork p3`),
  scenario('wait-pgid-not-woken-by-leaver', 'wait(-pgid) is not woken by a child that left that group', `
    p1 fork p2
    p1 fork p3
    p2 fork p4
    p4 setpgid 0 0
    p3 setpgid 0 p4
    p1 wait -p4
    p3 setpgid 0 0
    p3 exit 0
    p2 exit 0`),
  scenario('wait-pid-not-woken-by-other', 'waitpid(pid) sleeps on when another child exits, and reaps its own child later', `
    p1 fork p2
    p1 fork p3
    p1 wait p2
    p3 exit 4
    p2 exit 5
    p1 wait p3 nohang`),
  scenario('wait-group-fixed-at-start', 'wait(0) keeps the group it read when it started (kernel_wait4: get_task_pid(current, PIDTYPE_PGID)): a thread moves the process to a new group, the old group\'s child is still reaped', `
    p1 fork p2
    p1 fork p3
    p1 thread t1
    p1 wait 0
    t1 setpgid 0 0
    p2 exit 2
    t1 report`),
  scenario('wait-group-fixed-join-child-group', 'the process joins a child\'s group during wait(0): that child\'s exit does not end the wait', `
    p1 fork p2
    p1 fork p3
    p3 setpgid 0 0
    p1 thread t1
    p1 wait 0
    t1 setpgid 0 p3
    p3 exit 3
    t1 report
    p2 exit 2`),
  scenario('wait-int-min-esrch', 'waitpid(INT_MIN) is ESRCH (kernel_wait4: -INT_MIN is not defined), blocking or not', `
    p1 wait -2147483648
    p1 fork p2
    p1 wait -2147483648 nohang
    p1 wait -2147483648`),
  scenario('wait-int-min-from-thread', 'waitpid(INT_MIN) from a thread with a zombie child is ESRCH too', `
    p1 fork p2
    p2 exit 0
    p1 thread t1
    t1 wait -2147483648
    t1 wait -1 nohang`),

  // ---- a dying namespace init and its process group (zap_pid_ns_processes) ---------
  scenario('zap-init-in-inner-group', 'a dying init that joined a group led by a process of its namespace stays exiting while that group id is allocated, until its parent moves it (pid_allocated == init_pids)', `
    p1 fork p2 newns
    p2 fork p3
    p3 setpgid 0 0
    p2 setpgid 0 p3
    p3 exit 0
    p2 wait p3
    p2 exit 0
    p1 wait p2 nohang
    p1 setpgid p2 p2
    p1 wait p2 nohang`),
  scenario('zap-init-in-inner-group-killed', 'the same when the group leader is killed by the zap itself', `
    p1 fork p2 newns
    p2 fork p3
    p3 setpgid 0 0
    p2 setpgid 0 p3
    p3 fork p4
    p2 exit 7
    p1 wait p2 nohang
    p1 setpgid p2 p2
    p1 wait p2 nohang`),
  scenario('zap-init-in-inner-group-parent-group', 'the same, the parent moving the init into its own group', `
    p1 setsid
    p1 fork p2 newns
    p2 fork p3
    p3 setpgid 0 0
    p2 setpgid 0 p3
    p2 exit 0
    p1 setpgid p2 p1
    p1 wait -1 nohang`),

  // ---- the harness itself ----------------------------------------------------------
  scenario('harness-two-threads-wait', 'two threads of one process blocked in wait at once: each gets its own child', `
    p1 thread t1
    p1 fork p2
    p1 fork p3
    t1 wait p3
    p1 wait p2
    p2 exit 2
    p3 exit 3
    t1 report`),
  scenario('harness-thread-wait-echild', 'a thread\'s failed wait is its own: the main thread\'s result is not taken for it', `
    p1 thread t1
    p1 fork p2
    p1 wait p2
    t1 wait 99
    p2 exit 2
    t1 wait -1 nohang`),
  scenario('lastpid-out-of-range-einval', 'ns_last_pid refuses a value above pid_max (proc_dointvec_minmax: EINVAL) and the allocator does not move', `
    p1 lastpid max+1
    p1 fork p2
    p2 report`),
  scenario('lastpid-pid-max-accepted', 'ns_last_pid accepts pid_max itself: the next fork wraps', `
    p1 lastpid max-0
    p1 lastpid max+5
    p1 fork p2
    p2 report`),
  scenario('exec-by-thread-caught', 'after a non-leader thread execs, the process\'s handlers run in the image that thread started (the signal is the exec\'ing actor\'s)', `
    p1 fork p2
    p2 thread t1
    t1 exec
    t1 trap USR1
    p1 kill p2 USR1
    t1 report`),
  scenario('exec-by-thread-old-leader-gone', 'after a non-leader thread execs, the old main thread is gone: it takes no more steps', `
    p1 fork p2
    p2 thread t1
    t1 exec
    p2 report
    t1 trap USR2
    p1 kill t1 USR2
    t1 report`),

  // ---- per-thread parent links (kernel/exit.c __do_wait, forget_original_parent) ----
  scenario('thread-children-wait-own-first', 'each thread has its own children list and __do_wait scans the caller\'s first: wait(-1) from a thread returns its own child before an older one of the main thread', `
    p1 fork p2
    p1 thread t1
    t1 fork p3
    p2 exit 2
    p3 exit 3
    t1 wait -1 nohang
    p1 wait -1 nohang`),
  scenario('thread-children-move-to-sibling', 'a thread that exits hands its children to a live sibling, at the end of that sibling\'s list (find_alive_thread, list_splice_tail)', `
    p1 thread t1
    t1 fork p2
    p1 fork p3
    t1 threadexit 0
    p2 exit 2
    p3 exit 3
    p1 wait -1 nohang
    p1 wait -1 nohang`),
  scenario('thread-children-leader-exits', 'a leader that exits first hands its children to the live thread, which waits for them', `
    p1 fork p2
    p2 fork p3
    p2 thread t1
    t1 fork p4
    p2 threadexit 0
    p3 exit 3
    p4 exit 4
    t1 wait -1 nohang
    t1 report`),

  // ---- per-thread parent-death signal (prctl PR_SET_PDEATHSIG, forget_original_parent)
  scenario('pdeathsig-two-threads', 'two threads of the orphan with two different parent-death signals: both are sent', `
    p1 fork p2
    p2 fork p3
    p3 trap USR1
    p3 trap USR2
    p3 pdeathsig USR1
    p3 thread t1
    t1 pdeathsig USR2
    p2 exit 0
    p3 report`),
  scenario('pdeathsig-thread-exited', 'a thread that set the parent-death signal and exited takes it with it', `
    p1 fork p2
    p2 fork p3
    p3 trap USR1
    p3 thread t1
    t1 pdeathsig USR1
    t1 threadexit 0
    p2 exit 0
    p3 report`),
  scenario('pdeathsig-forking-thread-exits', 'the parent-death signal fires when the forking thread exits, though its process lives on', `
    p1 fork p2
    p2 thread t1
    t1 fork p3
    p3 trap USR1
    p3 pdeathsig USR1
    t1 threadexit 0
    p3 report`),
  scenario('pdeathsig-exec-by-other-thread', 'the parent-death signal fires when another thread\'s exec ends the forking thread (de_thread)', `
    p1 fork p2
    p2 thread t1
    p2 fork p3
    p3 trap USR1
    p3 pdeathsig USR1
    t1 exec
    p3 report`),

  // ---- per-thread pid_ns_for_children (unshare(CLONE_NEWPID)) ----------------------
  scenario('unshare-per-thread-fork', 'unshare(CLONE_NEWPID) is per thread: after a second thread unshares, the first thread\'s fork stays in the namespace; the second thread\'s is PID 1 of the new one', `
    p1 thread t1
    t1 unshare
    p1 fork p2
    p2 report
    t1 fork p3
    p3 report`),
  scenario('unshare-per-thread-clone', 'after one thread unshares, only that thread is refused a thread or a CLONE_NEWPID child (EINVAL); its sibling may', `
    p1 thread t1
    t1 unshare
    t1 thread t2
    p1 thread t3
    p1 fork p2 newns
    p2 report
    t1 fork p3 newns`),

  scenario('pdeathsig-zombie-leader-still-listed', 'a leader that exited first stays on the thread list until its group is reaped, so its parent-death signal still fires for the live thread', `
    p1 fork p2
    p2 fork p3
    p3 trap USR1
    p3 pdeathsig USR1
    p3 thread t1
    p3 threadexit 0
    p2 exit 0
    t1 report`),
  scenario('wait-group-reread-after-stop', 'a wait stopped and continued restarts (-ERESTARTSYS) and reads its group again', `
    p1 fork p2
    p2 fork p3
    p2 fork p4
    p4 setpgid 0 0
    p2 thread t1
    p2 wait 0
    t1 setpgid 0 p4
    p1 kill p2 STOP
    p1 kill p2 CONT
    p4 exit 4
    p3 exit 3`),

  // ---- SA_NOCLDWAIT (do_notify_parent, flush_signal_handlers) -----------------------
  scenario('nocldwait-autoreap', 'SIGCHLD at SIG_DFL with SA_NOCLDWAIT: children are autoreaped, wait finds none', `
    p1 fork p2
    p1 nocldwait
    p2 exit 0
    p1 wait -1 nohang`),
  scenario('nocldwait-handler-still-signalled', 'a SIGCHLD handler with SA_NOCLDWAIT: the child is autoreaped and SIGCHLD still comes (only SIG_IGN suppresses it)', `
    p1 fork p2
    p1 nocldwait trap
    p2 exit 3
    p1 wait p2 nohang`),
  scenario('nocldwait-blocked-wait-echild', 'a wait blocked on a child that SA_NOCLDWAIT autoreaps ends with ECHILD', `
    p1 fork p2
    p1 nocldwait
    p1 wait p2
    p2 exit 0
    p1 report`),
  scenario('nocldwait-cleared-by-exec', 'execve clears SA_NOCLDWAIT (flush_signal_handlers clears sa_flags): children are zombies again', `
    p1 fork p2
    p2 nocldwait
    p2 fork p3
    p2 exec
    p3 exit 4
    p2 wait p3 nohang`),

  // ---- handlers without SA_RESTART (handle_signal: -ERESTARTSYS -> -EINTR) ----------
  scenario('norestart-wait-eintr', 'a handler without SA_RESTART interrupts a blocked wait: EINTR', `
    p1 fork p2
    p1 trap USR1 norestart
    p1 wait p2
    p2 kill p1 USR1
    p1 wait p2 nohang`),
  scenario('restart-wait-goes-on', 'with SA_RESTART the same wait restarts and reaps the child later', `
    p1 fork p2
    p1 trap USR1
    p1 wait p2
    p2 kill p1 USR1
    p2 exit 5`),
  scenario('norestart-other-thread-waits-on', 'the handler runs in the main thread (complete_signal prefers it): another thread\'s wait goes on', `
    p1 thread t1
    p1 trap USR1 norestart
    p1 fork p2
    t1 wait p2
    p2 kill p1 USR1
    p2 exit 6`),

  // ---- CLONE_PARENT (copy_process) -------------------------------------------------
  scenario('clone-parent-sibling', 'clone(CLONE_PARENT): the child\'s parent is the caller\'s parent, which gets its SIGCHLD and reaps it', `
    p1 fork p2
    p2 fork p3 parent
    p3 report
    p2 wait -1 nohang
    p1 trap CHLD
    p3 exit 3
    p1 wait p3 nohang`),
  scenario('clone-parent-init-einval', 'a namespace init cannot create a sibling (SIGNAL_UNKILLABLE: EINVAL); its children can, into its namespace', `
    p1 fork p4 parent
    p1 fork p2 newns
    p2 fork p3 parent
    p2 fork p5
    p5 fork p6 parent
    p6 report`),

  // ---- clone3 set_tid (alloc_pid) ---------------------------------------------------
  scenario('set-tid-chosen', 'clone3 set_tid gives the child the number asked for, and leaves the cyclic cursor where it was', `
    p1 fork p2 tid 500
    p2 report
    p1 fork p3
    p3 report`),
  scenario('set-tid-errors', 'set_tid: a number in use is EEXIST, 0 and numbers past pid_max are EINVAL', `
    p1 fork p2
    p1 fork p3 tid 2
    p1 fork p4 tid 0
    p1 fork p5 tid 99999999
    p1 fork p6 tid 7
    p6 report`),
  scenario('set-tid-new-namespace', 'in a new namespace set_tid must ask for 1 (no init yet: EINVAL otherwise); later children of that namespace may pick their number', `
    p1 fork p2 newns tid 5
    p1 fork p3 newns tid 1
    p3 fork p4 tid 40
    p4 report`),

  // ---- tgkill: a signal to one thread (do_tkill, complete_signal) --------------------
  scenario('tgkill-handler-in-that-thread', 'a signal sent to one thread runs its handler in that thread: the thread\'s wait is interrupted (EINTR without SA_RESTART)', `
    p1 thread t1
    p1 trap USR1 norestart
    p1 fork p2
    t1 wait p2
    p2 tgkill p1 t1 USR1
    p2 exit 0
    p1 wait p2 nohang`),
  scenario('tgkill-errors-and-fatal', 'tgkill: a thread of another process is ESRCH, a number <= 0 is EINVAL, signal 0 checks; a fatal signal to one thread kills the process', `
    p1 fork p2
    p2 thread t1
    p1 tgkill p1 t1 USR1
    p1 tgkill 0 t1 TERM
    p1 tgkill p2 t1 0
    p1 tgkill p2 t1 TERM
    p1 wait p2 nohang`),
  scenario('tgkill-stop-whole-process', 'a stop signal sent to one thread stops the whole process; SIGCONT continues it', `
    p1 fork p2
    p2 thread t1
    p1 tgkill p2 t1 STOP
    p1 kill p2 CONT
    t1 report`),

  // ---- setns into a PID namespace (pidns_install, find_new_reaper) -----------------
  scenario('setns-fork-into-sibling', 'setns(CLONE_NEWPID) into a child namespace: the next child is there with a parent outside it; its orphans go to that namespace\'s init, not to the subreaper outside (find_new_reaper compares levels)', `
    p1 fork p2 newns
    p2 fork p3
    p1 fork p4
    p4 subreaper
    p4 setns p2
    p4 fork p5
    p5 report
    p5 fork p6
    p5 exit 0
    p6 report
    p4 wait p5 nohang`),
  scenario('setns-errors', 'setns: a zombie is ESRCH, a thread id ENOENT (pidfd_open), an unknown pid ESRCH; after entering a namespace no thread can be created until the caller goes back to its own', `
    p1 fork p2 newns
    p1 fork p4
    p4 thread t1
    p1 setns t1
    p4 setns p2
    p4 thread t2
    p4 setns p4
    p4 thread t3
    p2 setns 99
    p1 fork p7
    p7 exit 0
    p1 setns p7`),

  // ---- SA_NOCLDSTOP (do_notify_parent_cldstop) ---------------------------------------
  scenario('nocldstop-no-sigchld-on-stop', 'with SA_NOCLDSTOP the parent gets no SIGCHLD when a child stops or continues, but still when it exits', `
    p1 trap CHLD nocldstop
    p1 fork p2
    p1 kill p2 STOP
    p1 kill p2 CONT
    p2 exit 0
    p1 wait p2 nohang`),
  scenario('nocldstop-cleared-by-trap', 'installing the handler again without SA_NOCLDSTOP brings stop notifications back', `
    p1 trap CHLD nocldstop
    p1 fork p2
    p1 kill p2 STOP
    p1 trap CHLD
    p1 kill p2 CONT
    p1 kill p2 STOP
    p1 kill p2 KILL`),

  // ---- wait flags and waitid (wait_task_stopped, wait_task_continued, kernel_waitid)
  scenario('wait-untraced-continued', 'WUNTRACED reports a stop once, WCONTINUED a continue once', `
    p1 fork p2
    p1 kill p2 STOP
    p1 wait p2 nohang
    p1 wait p2 nohang untraced
    p1 wait p2 nohang untraced
    p1 kill p2 CONT
    p1 wait p2 nohang untraced
    p1 wait p2 nohang continued
    p1 wait p2 nohang continued`),
  scenario('wait-untraced-blocking', 'a blocked WUNTRACED wait is woken by the child\'s stop (do_notify_parent_cldstop wakes it even with SA_NOCLDSTOP)', `
    p1 trap CHLD nocldstop
    p1 fork p2
    p1 wait p2 untraced
    p2 kill p2 STOP
    p1 kill p2 CONT`),
  scenario('waitid-nowait', 'waitid WNOWAIT reports a zombie and leaves it; the next wait reaps it', `
    p1 fork p2
    p2 exit 3
    p1 waitid pid p2 exited nowait
    p1 waitid all exited nohang
    p1 waitid all exited nohang`),
  scenario('waitid-errors', 'waitid: no WEXITED/WSTOPPED/WCONTINUED, P_PID 0 and a negative P_PGID are EINVAL; a zombie does not count without WEXITED (ECHILD)', `
    p1 waitid all
    p1 waitid pid 0 exited
    p1 waitid pgid -3 exited
    p1 fork p2
    p2 exit 0
    p1 waitid all stopped nohang
    p1 waitid pgid 0 exited nohang`),
  scenario('waitid-pgid-stopped', 'waitid P_PGID with WSTOPPED finds a stopped child by group; WNOWAIT leaves the stop to report again', `
    p1 fork p2
    p2 setpgid 0 0
    p1 kill p2 TSTP
    p1 waitid pgid p2 stopped nohang nowait
    p1 waitid pgid p2 stopped nohang
    p1 waitid pgid p2 stopped nohang
    p1 kill p2 KILL
    p1 waitid pgid p2 exited`),

  // ---- SIGCHLD's siginfo (do_notify_parent, do_notify_parent_cldstop, legacy_queue) ---
  scenario('sigchld-info-exited', 'SIGCHLD for an exit: CLD_EXITED, si_pid the child, si_status its exit code', `
    p1 fork p2
    p2 trap CHLD
    p2 fork p3
    p3 exit 3
    p2 chldlog
    p2 chldlog
    p2 wait p3`),
  scenario('sigchld-info-killed', 'SIGCHLD for a death by signal: CLD_KILLED with the signal, whoever sent it; one entry per step, in order', `
    p1 fork p2
    p2 trap CHLD
    p2 fork p3
    p2 fork p4
    p2 kill p3 TERM
    p1 kill p4 KILL
    p2 fork p5
    p5 kill p5 QUIT
    p2 chldlog`),
  scenario('sigchld-info-stop-continue', 'CLD_STOPPED with the stop signal and CLD_CONTINUED with SIGCONT, then CLD_EXITED', `
    p1 fork p2
    p2 trap CHLD
    p2 fork p3
    p1 kill p3 STOP
    p1 kill p3 CONT
    p3 exit 0
    p2 chldlog`),
  scenario('sigchld-info-tstp-own-group', 'a child stopped by SIGTSTP in a group that is not orphaned: CLD_STOPPED with SIGTSTP', `
    p1 fork p2
    p2 setsid
    p2 trap CHLD
    p2 fork p3
    p3 setpgid 0 0
    p2 kill p3 TSTP
    p2 kill -p3 CONT
    p2 chldlog
    p2 kill p3 KILL
    p2 chldlog`),
  scenario('sigchld-info-coalesced', 'a second SIGCHLD while one is pending is lost (legacy_queue): the stopped parent runs its handler once, with the first child\'s siginfo', `
    p1 fork p2
    p2 trap CHLD
    p2 fork p3
    p2 fork p4
    p1 kill p2 STOP
    p3 exit 1
    p4 exit 2
    p1 kill p2 CONT
    p2 chldlog
    p2 wait -1 nohang
    p2 wait -1 nohang`),
  scenario('sigchld-info-coalesced-stop-first', 'coalescing keeps the first siginfo: a child\'s stop, then its death while the parent is stopped', `
    p1 fork p2
    p2 trap CHLD
    p2 fork p3
    p1 kill p2 STOP
    p1 kill p3 STOP
    p1 kill p3 KILL
    p1 kill p2 CONT
    p2 chldlog
    p2 wait p3 nohang`),
  scenario('sigchld-info-reparented', 'an orphan reparented to a subreaper: its SIGCHLD goes to the new parent, si_pid in that parent\'s namespace', `
    p1 fork p2
    p2 subreaper
    p2 trap CHLD
    p2 fork p3
    p3 fork p4
    p3 exit 0
    p4 exit 4
    p2 chldlog`),
  scenario('sigchld-info-reparented-zombie-first', 'a zombie reparented by its parent\'s exit is announced before that parent (reparent_leader runs in forget_original_parent, before do_notify_parent): coalesced behind a stop, the first is the grandchild', `
    p1 fork p2
    p2 subreaper
    p2 trap CHLD
    p2 fork p3
    p3 fork p4
    p4 exit 5
    p1 kill p2 STOP
    p3 exit 0
    p1 kill p2 CONT
    p2 chldlog
    p2 wait -1 nohang
    p2 wait -1 nohang`),
  scenario('sigchld-info-nested-ns', 'si_pid is the child\'s number in the parent\'s namespace: a child init is 1 inside, not in the record', `
    p1 trap CHLD
    p1 fork p2 newns
    p1 fork p3 newns
    p2 exit 6
    p1 kill p3 KILL
    p1 chldlog`),
  scenario('sigchld-info-sent-by-kill', 'a SIGCHLD sent with kill is SI_USER with the sender\'s pid, with tgkill SI_TKILL; from an ancestor namespace si_pid is 0', `
    p1 fork p2 newns
    p2 trap CHLD
    p2 fork p3
    p3 kill p2 CHLD
    p3 tgkill p2 p2 CHLD
    p1 kill p2 CHLD
    p2 chldlog`),
  scenario('sigchld-info-leader-exited-first', 'a leader that exited before its last thread: SIGCHLD carries the code wait reports, the last thread\'s (not the leader\'s own)', `
    p1 trap CHLD
    p1 fork p2
    p2 thread t1
    p2 threadexit 3
    t1 threadexit 5
    p1 chldlog
    p1 wait p2`),
  scenario('sigchld-info-nocldwait-and-exec', 'a handler with SA_NOCLDWAIT still records the autoreaped child; a new child and an exec\'d image start with an empty record', `
    p1 fork p2
    p2 nocldwait trap
    p2 fork p3
    p3 exit 2
    p2 fork p4
    p4 chldlog
    p2 exec
    p2 chldlog
    p2 trap CHLD
    p4 exit 0
    p2 chldlog`),

  // ---- vfork (kernel_clone: CLONE_VFORK, wait_for_vfork_done, mm_release) ------------
  scenario('vfork-child-exits', 'a vfork caller waits until its child exits; the child takes steps meanwhile', `
    p1 fork p2 vfork
    p2 report
    p2 fork p3
    p2 exit 3
    p1 report
    p1 wait p2`),
  scenario('vfork-child-execs', 'a vfork caller resumes when its child execs; the child lives on', `
    p1 fork p2 vfork
    p2 trap USR1
    p2 exec
    p1 kill p2 USR1
    p2 exit 0
    p1 wait p2`),
  scenario('vfork-child-killed', 'a vfork caller resumes when its child is killed', `
    p1 fork p2
    p2 fork p3 vfork
    p1 kill p3 KILL
    p2 wait p3`),
  scenario('vfork-child-first-thread-exits', 'the wait ends when the child\'s first task exits, though the child process lives on in its other thread (vfork_done is the first task\'s)', `
    p1 fork p2 vfork
    p2 thread t1
    t1 report
    p2 threadexit 4
    t1 report
    t1 exit 5
    p1 wait p2`),
  scenario('vfork-parent-signal-waits', 'a handled signal to a vfork caller stays pending until the child exits (TASK_KILLABLE), then the handler runs', `
    p1 fork p2
    p2 trap USR1
    p2 fork p3 vfork
    p1 kill p2 USR1
    p3 exit 0
    p2 wait p3`),
  scenario('vfork-parent-fatal-signal', 'a fatal signal ends a vfork caller\'s wait: it dies, the child runs on and is reparented', `
    p1 fork p2
    p2 fork p3 vfork
    p1 kill p2 TERM
    p3 report
    p1 wait p2`),
  scenario('vfork-parent-core-signal-waits', 'a core-dumping signal is not turned into SIGKILL at send (complete_signal): the vfork caller waits, then dies of it (the child exits: after an exec, the new image\'s getppid races with the caller\'s death)', `
    p1 fork p2
    p2 fork p3 vfork
    p1 kill p2 QUIT
    p3 exit 0
    p1 wait p2`),
  scenario('vfork-parent-stop-waits', 'SIGSTOP to a vfork caller: it does not stop while it waits; after the child exits it stops before its fork returns, and answers after SIGCONT', `
    p1 fork p2
    p2 fork p3 vfork
    p1 kill p2 STOP
    p1 wait p2 nohang untraced
    p3 exit 0
    p1 wait p2 nohang untraced
    p1 kill p2 CONT
    p2 wait p3`),
  scenario('vfork-sigchld-after-resume', 'the vfork child\'s exit releases the caller first (exit_mm), then the SIGCHLD comes (exit_notify): the caller\'s handler records it', `
    p1 fork p2
    p2 trap CHLD
    p2 fork p3 vfork
    p3 exit 7
    p2 chldlog
    p2 wait p3`),
];
