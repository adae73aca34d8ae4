#include "namespaces.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <string>

#include "exec-plan.h"
#include "fd.h"

namespace pidone {

void tie_to_parent(int err_fd) {
  // prctl(2): the setting survives execve (cleared only for set-user-ID, set-group-ID
  // or capability-gaining programs) and is not inherited by our own children.
  // PR_SET_PDEATHSIG with a valid signal cannot fail.
  prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  // A parent that died before the prctl sent nothing. getppid() cannot tell: in the new
  // namespace it is 0 both before and after (the parent, then the process we were
  // reparented to, is outside it; pid_namespaces(7)). The parent holds the read end of
  // err_fd until we exec; when no reader is left, poll(2) on a pipe's write end reports
  // POLLERR (fs/pipe.c, pipe_poll). Nothing has been started in the namespace yet.
  struct pollfd pfd = {err_fd, POLLOUT, 0};
  if (poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLERR)) _exit(127);
}

void enter_namespaces(int clone_flags, int userns_sync_fd, int err_fd) {
  if (clone_flags & CLONE_NEWPID) tie_to_parent(err_fd);
  if (clone_flags & CLONE_NEWUSER) {
    char byte;
    // EOF without a byte: the parent could not write the maps.
    if (read_full(userns_sync_fd, &byte, 1) != 1) child_fail(err_fd, EPERM, kUserNsSync);
    close(userns_sync_fd);
  }
  if (clone_flags & CLONE_NEWNS) {
    // Private first, so the /proc mount below does not propagate back to the parent's
    // namespace (mount_namespaces(7)); then a /proc showing the new PID namespace
    // (pid_namespaces(7), "/proc and PID namespaces").
    if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) child_fail(err_fd, errno, kMountPrivate);
    if ((clone_flags & CLONE_NEWPID) && mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0) {
      child_fail(err_fd, errno, kMountProc);
    }
  }
}

namespace {

bool write_proc_file(pid_t pid, const char* name, const std::string& text) {
  std::string path = "/proc/" + std::to_string(pid) + "/" + name;
  Fd fd(open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd.is_open()) return false;
  // One write(2): the kernel parses each write to these files on its own (user_namespaces(7)).
  return write(fd.get(), text.data(), text.size()) == static_cast<ssize_t>(text.size());
}

}  // namespace

bool write_id_maps(pid_t child) {
  return write_proc_file(child, "setgroups", "deny") &&
         write_proc_file(child, "uid_map", "0 " + std::to_string(geteuid()) + " 1\n") &&
         write_proc_file(child, "gid_map", "0 " + std::to_string(getegid()) + " 1\n");
}

}  // namespace pidone
