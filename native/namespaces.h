// New namespaces for a child: a PID namespace whose init it is, a mount namespace with
// a /proc of its own, and, for callers without privileges, a user namespace.
#pragma once
#include <sys/types.h>

namespace pidone {

// In the child after clone(2): wait for the parent's uid/gid maps (CLONE_NEWUSER),
// make mounts private and mount /proc (CLONE_NEWNS with CLONE_NEWPID). On failure
// writes a ChildFailure to err_fd and _exits.
void enter_namespaces(int clone_flags, int userns_sync_fd, int err_fd);

// In the parent: map root inside the child's user namespace to our euid/egid
// (user_namespaces(7): "setgroups" must be denied first for an unprivileged gid_map).
// Allocates; call it in the parent only.
bool write_id_maps(pid_t child);

}  // namespace pidone
