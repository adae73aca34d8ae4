#include "namespaces.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include <string>

#include "exec-plan.h"

namespace pidone {

void enter_namespaces(int clone_flags, int userns_sync_fd, int err_fd) {
  if (clone_flags & CLONE_NEWUSER) {
    char byte;
    ssize_t n;
    do {
      n = read(userns_sync_fd, &byte, 1);
    } while (n < 0 && errno == EINTR);
    // EOF without a byte: the parent could not write the maps.
    if (n != 1) child_fail(err_fd, EPERM, kUserNsSync);
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
  int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  ssize_t n = write(fd, text.data(), text.size());
  close(fd);
  return n == static_cast<ssize_t>(text.size());
}

}  // namespace

bool write_id_maps(pid_t child) {
  return write_proc_file(child, "setgroups", "deny") &&
         write_proc_file(child, "uid_map", "0 " + std::to_string(geteuid()) + " 1\n") &&
         write_proc_file(child, "gid_map", "0 " + std::to_string(getegid()) + " 1\n");
}

}  // namespace pidone
