#include "exec-plan.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>

#include "bytes.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

namespace pidone {

namespace {

std::vector<std::string> string_array(Napi::Env env, Napi::Value value, const char* what) {
  if (!value.IsArray()) throw Napi::TypeError::New(env, std::string("spawn: ") + what + " must be an array");
  Napi::Array array = value.As<Napi::Array>();
  std::vector<std::string> out;
  out.reserve(array.Length());
  for (uint32_t i = 0; i < array.Length(); i++) {
    Napi::Value item = array.Get(i);
    if (!item.IsString()) throw Napi::TypeError::New(env, std::string("spawn: ") + what + " must hold strings");
    // The bytes the string stands for: the argv and environ pidone was given reach
    // here as strings with their non-UTF-8 bytes escaped (bytes.h), and leave as those
    // bytes.
    std::string s = string_to_bytes(item.As<Napi::String>());
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

}  // namespace

long g_child_nofile_soft = -1;

const StageInfo* stage_info(int stage) { return stage >= 0 && stage < kStageCount ? &kStages[stage] : nullptr; }

ExecPlan ExecPlan::from_js(Napi::Env env, Napi::Value candidates, Napi::Value argv, Napi::Value envp,
                           Napi::Object options) {
  ExecPlan plan;
  plan.candidates = string_array(env, candidates, "candidates");
  plan.argv_storage = string_array(env, argv, "argv");
  plan.env_storage = string_array(env, envp, "envp");
  if (plan.candidates.empty() || plan.argv_storage.empty()) {
    throw Napi::TypeError::New(env, "spawn: candidates and argv must not be empty");
  }
  plan.setsid = options.Get("setsid").ToBoolean().Value();
  Napi::Value tty = options.Get("ttyFd");
  plan.tty_fd = tty.IsNumber() ? tty.As<Napi::Number>().Int32Value() : -1;
  Napi::Value keep = options.Get("keepFds");
  if (keep.IsArray()) {
    Napi::Array keep_array = keep.As<Napi::Array>();
    for (uint32_t i = 0; i < keep_array.Length(); i++) plan.keep(keep_array.Get(i).As<Napi::Number>().Int32Value());
  }
  Napi::Value env_pid_index = options.Get("envPidIndex");
  if (env_pid_index.IsNumber()) {
    plan.env_pid_index = env_pid_index.As<Napi::Number>().Int32Value();
    if (plan.env_pid_index >= static_cast<int>(plan.env_storage.size())) plan.env_pid_index = -1;
    plan.env_pid_name = options.Get("envPidName").ToString().Utf8Value();
    plan.env_pid_buffer.resize(plan.env_pid_name.size() + 32);
  }
  return plan;
}

void ExecPlan::add_env(const std::string& entry) { env_storage.push_back(entry); }

void ExecPlan::keep(int fd) {
  if (fd >= 3) keep_fds.push_back(fd);
}

void ExecPlan::finalize() {
  std::sort(keep_fds.begin(), keep_fds.end());
  keep_fds.erase(std::unique(keep_fds.begin(), keep_fds.end()), keep_fds.end());
  argv.clear();
  envp.clear();
  for (std::string& s : argv_storage) argv.push_back(s.data());
  argv.push_back(nullptr);
  for (std::string& s : env_storage) envp.push_back(s.data());
  envp.push_back(nullptr);
  static char sh_path[] = "/bin/sh";
  sh_argv.clear();
  sh_argv.push_back(sh_path);
  sh_argv.push_back(nullptr);
  for (size_t i = 1; i + 1 < argv.size(); i++) sh_argv.push_back(argv[i]);
  sh_argv.push_back(nullptr);
}

void child_fail(int err_fd, int err, Stage stage) {
  ChildFailure failure = {err, stage};
  ssize_t ignored = write(err_fd, &failure, sizeof failure);
  (void)ignored;
  _exit(127);
}

void prepare_child(ExecPlan& plan, int err_fd) {
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
  if (g_child_nofile_soft >= 0) {
    // setrlimit(2) is a plain system call; only the soft limit changes back.
    struct rlimit nofile;
    if (getrlimit(RLIMIT_NOFILE, &nofile) == 0) {
      nofile.rlim_cur = static_cast<rlim_t>(g_child_nofile_soft);
      setrlimit(RLIMIT_NOFILE, &nofile);
    }
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
}

void exec_child(ExecPlan& plan, int err_fd) {
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
    if (err == ENOEXEC) {
      // A script without "#!": run it with the shell, as execvp(3) and shells do.
      plan.sh_argv[1] = path.data();
      execve(plan.sh_argv[0], plan.sh_argv.data(), plan.envp.data());
      err = errno == ENOENT ? ENOEXEC : errno;
      break;
    }
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

}  // namespace pidone
