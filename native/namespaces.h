// New namespaces for a child: a PID namespace whose init it is, a mount namespace with
// a /proc of its own, and, for callers without privileges, a user namespace.
#pragma once
#include <sys/types.h>

namespace pidone {

// In the child after clone(2), first of all: die with the parent. As a new PID
// namespace's init, this process takes everything started in the namespace with it
// when it dies (pid_namespaces(7)); tied to the parent by PR_SET_PDEATHSIG(SIGKILL),
// nothing in the namespace outlives the parent, however the parent ends (SIGKILL, the
// OOM killer). The signal comes when the parent *thread* exits (prctl(2)): pidone
// spawns from its main thread, which is the last to go. It reaches a namespace init
// because it comes from outside the namespace: the kernel forces such a signal
// (kernel/signal.c, send_signal_locked).
// Exits at once if the parent is already gone. err_fd: the spawn's error pipe.
void tie_to_parent(int err_fd);

// In the child after clone(2): tie_to_parent() (CLONE_NEWPID), wait for the parent's
// uid/gid maps (CLONE_NEWUSER), make mounts private and mount /proc (CLONE_NEWNS with
// CLONE_NEWPID). On failure writes a ChildFailure to err_fd and _exits.
void enter_namespaces(int clone_flags, int userns_sync_fd, int err_fd);

// In the parent: map root inside the child's user namespace to our euid/egid
// (user_namespaces(7): "setgroups" must be denied first for an unprivileged gid_map).
// Allocates; call it in the parent only.
bool write_id_maps(pid_t child);

}  // namespace pidone
