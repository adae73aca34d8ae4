// Spawn: fork + exec of the main child, with exec errors reported back through a
// CLOEXEC pipe so the caller learns them synchronously (DESIGN.md "Start" 5-6).
//
// Everything that allocates happens before fork(). Between fork and exec the child
// makes only async-signal-safe calls (signal-safety(7)): the parent is multi-threaded
// (V8 and libuv threads), and a lock held by another thread at fork time stays held
// forever in the child.
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include "errors.h"
#include "exports.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

namespace pidone {
namespace {

// What the child writes to the error pipe when it cannot exec: the errno and the call
// that failed.
struct ChildFailure {
  int err;
  int stage;
};
enum Stage { kExec = 0, kSetsid = 1, kSetpgid = 2, kMountPrivate = 3, kMountProc = 4, kUserNsSync = 5 };
const char* const kStageSyscall[] = {"execve", "setsid", "setpgid", "mount(MS_PRIVATE)", "mount(proc)", "userns"};

struct SpawnPlan {
  std::vector<std::string> candidates;  // paths to try with execve, in order
  std::vector<std::string> argv_storage;
  std::vector<std::string> env_storage;
  std::vector<char*> argv;
  std::vector<char*> envp;
  std::vector<int> keep_fds;  // sorted, >= 3
  bool setsid = false;
  int tty_fd = -1;
  int env_pid_index = -1;  // envp entry to overwrite with "<name>=<child pid>"
  std::string env_pid_name;
  std::vector<char> env_pid_buffer;
  // clone(2) namespace flags (CLONE_NEWPID, CLONE_NEWNS, CLONE_NEWUSER); 0 = plain fork.
  int clone_flags = 0;
  // With CLONE_NEWUSER: the child waits on this pipe until the parent has written its
  // uid_map and gid_map (user_namespaces(7)).
  int userns_sync_fd = -1;
};

std::vector<std::string> string_array(Napi::Env env, Napi::Value value, const char* what) {
  if (!value.IsArray()) throw Napi::TypeError::New(env, std::string("spawn: ") + what + " must be an array");
  Napi::Array array = value.As<Napi::Array>();
  std::vector<std::string> out;
  out.reserve(array.Length());
  for (uint32_t i = 0; i < array.Length(); i++) {
    Napi::Value item = array.Get(i);
    if (!item.IsString()) throw Napi::TypeError::New(env, std::string("spawn: ") + what + " must hold strings");
    std::string s = item.As<Napi::String>().Utf8Value();
    if (s.find('\0') != std::string::npos) {
      throw Napi::TypeError::New(env, std::string("spawn: ") + what + " must not contain NUL bytes");
    }
    out.push_back(std::move(s));
  }
  return out;
}

// Async-signal-safe unsigned to decimal.
char* format_uint(char* p, unsigned long v) {
  char digits[24];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  while (n > 0) *p++ = digits[--n];
  *p = '\0';
  return p;
}

// Mark every fd >= 3 close-on-exec, except the sorted `keep` list.
void cloexec_all_except(const std::vector<int>& keep) {
  unsigned int from = 3;
  for (int fd : keep) {
    if (static_cast<unsigned int>(fd) > from) {
      if (syscall(SYS_close_range, from, static_cast<unsigned int>(fd) - 1, CLOSE_RANGE_CLOEXEC) != 0) {
        // Kernels before 5.11: fcntl each fd in the gap.
        for (unsigned int f = from; f < static_cast<unsigned int>(fd); f++) fcntl(f, F_SETFD, FD_CLOEXEC);
      }
    }
    from = static_cast<unsigned int>(fd) + 1;
  }
  if (syscall(SYS_close_range, from, ~0U, CLOSE_RANGE_CLOEXEC) != 0) {
    long max = sysconf(_SC_OPEN_MAX);
    if (max < 0 || max > 65536) max = 65536;
    for (long f = from; f < max; f++) fcntl(static_cast<int>(f), F_SETFD, FD_CLOEXEC);
  }
}

// Write `text` to /proc/<pid>/<name> (the user namespace maps).
bool write_file(pid_t pid, const char* name, const std::string& text) {
  std::string path = "/proc/" + std::to_string(pid) + "/" + name;
  int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  ssize_t n = write(fd, text.data(), text.size());
  close(fd);
  return n == static_cast<ssize_t>(text.size());
}

[[noreturn]] void child_fail(int pipe_fd, int err, Stage stage) {
  ChildFailure failure = {err, stage};
  ssize_t ignored = write(pipe_fd, &failure, sizeof failure);
  (void)ignored;
  _exit(127);
}

// In a new PID + mount namespace: make every mount private, so that what follows
// does not propagate back to the parent's namespace, then mount a /proc that shows
// the new PID namespace (pid_namespaces(7), "/proc and PID namespaces").
void setup_namespaces(SpawnPlan& plan, int err_fd) {
  if (plan.clone_flags & CLONE_NEWUSER) {
    char byte;
    ssize_t n;
    do {
      n = read(plan.userns_sync_fd, &byte, 1);
    } while (n < 0 && errno == EINTR);
    // EOF without a byte: the parent could not write the maps.
    if (n != 1) child_fail(err_fd, EPERM, kUserNsSync);
    close(plan.userns_sync_fd);
  }
  if (plan.clone_flags & CLONE_NEWNS) {
    if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) child_fail(err_fd, errno, kMountPrivate);
    if ((plan.clone_flags & CLONE_NEWPID) &&
        mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0) {
      child_fail(err_fd, errno, kMountProc);
    }
  }
}

// Runs in the child, between fork and exec. Signals are blocked on entry.
[[noreturn]] void run_child(SpawnPlan& plan, int err_fd) {
  if (plan.clone_flags != 0) setup_namespaces(plan, err_fd);
  if (plan.setsid) {
    if (setsid() < 0) child_fail(err_fd, errno, kSetsid);
  } else {
    if (setpgid(0, 0) < 0) child_fail(err_fd, errno, kSetpgid);
  }
  if (plan.tty_fd >= 0) {
    // A new session leader takes the terminal as its controlling tty (tty_ioctl(4),
    // TIOCSCTTY). tcsetpgrp from a background group is allowed because SIGTTOU is
    // blocked (tcsetpgrp(3)). Failures are not fatal: the child runs without the
    // foreground, as it would under a shell that lost its terminal.
    if (plan.setsid) ioctl(plan.tty_fd, TIOCSCTTY, 0);
    tcsetpgrp(plan.tty_fd, getpid());
  }
  // Default dispositions for every signal: ignored signals stay ignored across exec
  // (execve(2)), and Node ignores SIGPIPE. 32 and 33 belong to glibc and fail with
  // EINVAL, harmlessly.
  struct sigaction dfl = {};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  for (int sig = 1; sig < NSIG; sig++) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    sigaction(sig, &dfl, nullptr);
  }
  // The child gets exactly the fds pidone was started with. Node marks 0-16
  // close-on-exec at start-up and opens its own fds with O_CLOEXEC; clear the flag on
  // what the child must inherit, set it on everything else.
  cloexec_all_except(plan.keep_fds);
  for (int fd = 0; fd <= 2; fd++) {
    fcntl(fd, F_SETFD, 0);
    // Node may have made 0-2 non-blocking; most programs expect blocking stdio.
    int flags = fcntl(fd, F_GETFL);
    if (flags >= 0 && (flags & O_NONBLOCK)) fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  }
  for (int fd : plan.keep_fds) fcntl(fd, F_SETFD, 0);
  if (plan.env_pid_index >= 0) {
    char* p = plan.env_pid_buffer.data();
    for (char c : plan.env_pid_name) *p++ = c;
    *p++ = '=';
    format_uint(p, static_cast<unsigned long>(getpid()));
    plan.envp[plan.env_pid_index] = plan.env_pid_buffer.data();
  }
  sigset_t empty;
  sigemptyset(&empty);
  sigprocmask(SIG_SETMASK, &empty, nullptr);

  // execvp(3)'s rules, over the candidate list the parent built from PATH: ENOENT and
  // ENOTDIR move on to the next directory; EACCES is remembered and reported if
  // nothing else works; any other error stops the search.
  int err = ENOENT;
  bool saw_eacces = false;
  for (std::string& path : plan.candidates) {
    execve(path.c_str(), plan.argv.data(), plan.envp.data());
    err = errno;
    if (err == EACCES) {
      saw_eacces = true;
      continue;
    }
    if (err == ENOENT || err == ENOTDIR || err == ENAMETOOLONG) continue;
    break;
  }
  if (saw_eacces && (err == ENOENT || err == ENOTDIR || err == ENAMETOOLONG)) err = EACCES;
  child_fail(err_fd, err, kExec);
}

// Spawn(candidates: string[], argv: string[], envp: string[], options: {
//   setsid: boolean, ttyFd: number, keepFds: number[], envPidIndex: number,
//   envPidName: string, cloneFlags: number }) -> pid
Napi::Value Spawn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* usage = "spawn(candidates: string[], argv: string[], envp: string[], options: object)";
  check_args(info, 4, usage);
  if (!info[3].IsObject()) throw Napi::TypeError::New(env, std::string("Usage: ") + usage);

  SpawnPlan plan;
  plan.candidates = string_array(env, info[0], "candidates");
  plan.argv_storage = string_array(env, info[1], "argv");
  plan.env_storage = string_array(env, info[2], "envp");
  if (plan.candidates.empty() || plan.argv_storage.empty()) {
    throw Napi::TypeError::New(env, "spawn: candidates and argv must not be empty");
  }
  Napi::Object options = info[3].As<Napi::Object>();
  plan.setsid = options.Get("setsid").ToBoolean().Value();
  Napi::Value tty = options.Get("ttyFd");
  plan.tty_fd = tty.IsNumber() ? tty.As<Napi::Number>().Int32Value() : -1;
  Napi::Value keep = options.Get("keepFds");
  if (keep.IsArray()) {
    Napi::Array keep_array = keep.As<Napi::Array>();
    for (uint32_t i = 0; i < keep_array.Length(); i++) {
      int fd = keep_array.Get(i).As<Napi::Number>().Int32Value();
      if (fd >= 3) plan.keep_fds.push_back(fd);
    }
  }
  std::sort(plan.keep_fds.begin(), plan.keep_fds.end());
  plan.keep_fds.erase(std::unique(plan.keep_fds.begin(), plan.keep_fds.end()), plan.keep_fds.end());
  Napi::Value clone_flags = options.Get("cloneFlags");
  if (clone_flags.IsNumber()) plan.clone_flags = clone_flags.As<Napi::Number>().Int32Value();
  Napi::Value env_pid_index = options.Get("envPidIndex");
  if (env_pid_index.IsNumber()) {
    plan.env_pid_index = env_pid_index.As<Napi::Number>().Int32Value();
    if (plan.env_pid_index >= static_cast<int>(plan.env_storage.size())) plan.env_pid_index = -1;
    plan.env_pid_name = options.Get("envPidName").ToString().Utf8Value();
    plan.env_pid_buffer.resize(plan.env_pid_name.size() + 32);
  }

  for (std::string& s : plan.argv_storage) plan.argv.push_back(s.data());
  plan.argv.push_back(nullptr);
  for (std::string& s : plan.env_storage) plan.envp.push_back(s.data());
  plan.envp.push_back(nullptr);

  int err_pipe[2];
  if (pipe2(err_pipe, O_CLOEXEC) != 0) throw_errno(env, errno, "pipe2");
  int sync_pipe[2] = {-1, -1};
  if (plan.clone_flags & CLONE_NEWUSER) {
    if (pipe2(sync_pipe, O_CLOEXEC) != 0) {
      close(err_pipe[0]);
      close(err_pipe[1]);
      throw_errno(env, errno, "pipe2");
    }
    plan.userns_sync_fd = sync_pipe[0];
  }
  // The maps the parent writes for a user namespace: root inside is the caller outside.
  std::string uid_map = "0 " + std::to_string(geteuid()) + " 1\n";
  std::string gid_map = "0 " + std::to_string(getegid()) + " 1\n";

  // Block every signal across fork: the child must not run pidone's handlers (they
  // would write to pidone's self-pipe) before it has reset them.
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  // With namespace flags, clone(2) with no new stack behaves as fork(2) does, in new
  // namespaces: the child is PID 1 of the new PID namespace.
  pid_t pid = plan.clone_flags == 0
                  ? fork()
                  : static_cast<pid_t>(syscall(SYS_clone, plan.clone_flags | SIGCHLD, nullptr, nullptr, nullptr, nullptr));
  if (pid == 0) {
    close(err_pipe[0]);
    if (sync_pipe[1] >= 0) close(sync_pipe[1]);
    run_child(plan, err_pipe[1]);
  }
  int fork_errno = errno;
  if (sync_pipe[0] >= 0) {
    close(sync_pipe[0]);
    if (pid > 0) {
      // user_namespaces(7): setgroups must be denied before an unprivileged gid_map.
      bool ok = write_file(pid, "setgroups", "deny") && write_file(pid, "uid_map", uid_map) &&
                write_file(pid, "gid_map", gid_map);
      if (ok) {
        ssize_t ignored = write(sync_pipe[1], "g", 1);
        (void)ignored;
      }
    }
    close(sync_pipe[1]);
  }
  if (pid > 0 && !plan.setsid) {
    // Also from the parent, so the group exists whichever of the two runs first
    // (setpgid(2); EACCES once the child has exec'd means it already did it itself).
    setpgid(pid, pid);
  }
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  close(err_pipe[1]);
  if (pid < 0) {
    close(err_pipe[0]);
    throw_errno(env, fork_errno, plan.clone_flags == 0 ? "fork" : "clone");
  }

  ChildFailure failure = {};
  ssize_t n;
  do {
    n = read(err_pipe[0], &failure, sizeof failure);
  } while (n < 0 && errno == EINTR);
  close(err_pipe[0]);
  if (n == static_cast<ssize_t>(sizeof failure)) {
    // The child never ran the command: collect it here so it is not mistaken for the
    // command's own exit.
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    throw_errno(env, failure.err, kStageSyscall[failure.stage]);
  }
  return Napi::Number::New(env, pid);
}

}  // namespace

void init_spawn(Napi::Env env, Napi::Object exports) {
  exports.Set("spawn", Napi::Function::New(env, Spawn));
}

}  // namespace pidone
