// Spawn: fork + exec of the main child, with exec errors reported back through a
// CLOEXEC pipe so the caller learns them synchronously (docs/usage.md, "Exit codes": 126 and 127).
//
// Everything that allocates happens before fork(). Between fork and exec the child
// makes only async-signal-safe calls (signal-safety(7)): the parent is multi-threaded
// (V8 and libuv threads), and a lock held by another thread at fork time stays held
// forever in the child.
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <memory>
#include <string>

#include "errors.h"
#include "exec-plan.h"
#include "exports.h"
#include "namespaces.h"

namespace pidone {
namespace {

// The pipes between a namespace's init and its pre-forked first child (see Spawn).
struct PreforkPipes {
  int go[2] = {-1, -1};     // init -> child: one byte means "exec now"
  int adopt[2] = {-1, -1};  // child -> init: its pid, then a ChildFailure or EOF on exec
};

void close_fd(int& fd) {
  if (fd >= 0) close(fd);
  fd = -1;
}

// Read a ChildFailure from `fd`: true if one arrived, false on EOF (exec succeeded).
bool read_failure(int fd, ChildFailure* failure) {
  ssize_t n;
  do {
    n = read(fd, failure, sizeof *failure);
  } while (n < 0 && errno == EINTR);
  return n == static_cast<ssize_t>(sizeof *failure);
}

// The pre-forked first child of a new PID namespace (pid 2 there): it prepares itself
// as the command, tells the init its pid, and waits for the init (pidone, after it
// has exec'd Node and installed its signal handlers) to say "go".
[[noreturn]] void run_prefork_child(ExecPlan& plan, PreforkPipes& pipes) {
  close_fd(pipes.go[1]);
  close_fd(pipes.adopt[0]);
  pid_t self = getpid();
  ssize_t ignored = write(pipes.adopt[1], &self, sizeof self);
  (void)ignored;
  prepare_child(plan, pipes.adopt[1]);
  char byte;
  ssize_t n;
  do {
    n = read(pipes.go[0], &byte, 1);
  } while (n < 0 && errno == EINTR);
  if (n != 1) _exit(127);  // the init died before adopting us
  close_fd(pipes.go[0]);
  exec_child(plan, pipes.adopt[1]);
}

// Spawn(candidates, argv, envp, options) -> pid
//   options: { setsid, ttyFd, keepFds, envPidIndex, envPidName, cloneFlags,
//              namespaceChild?: { candidates, argv, envp, options } }
// With cloneFlags the child is created by clone(2) in new namespaces. With
// namespaceChild as well, that child (the namespace's init) first forks the given
// command, which so gets the next pid there (2) before the init execs, and hands it
// over through PIDONE_PREFORKED="<go fd>:<adopt fd>" (see AdoptPreforked).
Napi::Value Spawn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* usage = "spawn(candidates: string[], argv: string[], envp: string[], options: object)";
  check_args(info, 4, usage);
  if (!info[3].IsObject()) throw Napi::TypeError::New(env, std::string("Usage: ") + usage);
  Napi::Object options = info[3].As<Napi::Object>();
  ExecPlan plan = ExecPlan::from_js(env, info[0], info[1], info[2], options);
  Napi::Value clone_value = options.Get("cloneFlags");
  int clone_flags = clone_value.IsNumber() ? clone_value.As<Napi::Number>().Int32Value() : 0;

  std::unique_ptr<ExecPlan> prefork;
  PreforkPipes pipes;
  Napi::Value ns_child = options.Get("namespaceChild");
  if (clone_flags != 0 && ns_child.IsObject()) {
    Napi::Object c = ns_child.As<Napi::Object>();
    if (!c.Get("options").IsObject()) throw Napi::TypeError::New(env, "spawn: namespaceChild.options must be an object");
    prefork.reset(new ExecPlan(
        ExecPlan::from_js(env, c.Get("candidates"), c.Get("argv"), c.Get("envp"), c.Get("options").As<Napi::Object>())));
    if (pipe2(pipes.go, O_CLOEXEC) != 0 || pipe2(pipes.adopt, O_CLOEXEC) != 0) {
      int err = errno;
      close_fd(pipes.go[0]);
      close_fd(pipes.go[1]);
      throw_errno(env, err, "pipe2");
    }
    // The init keeps its ends across exec and learns their numbers from the environment.
    plan.keep(pipes.go[1]);
    plan.keep(pipes.adopt[0]);
    plan.add_env("PIDONE_PREFORKED=" + std::to_string(pipes.go[1]) + ":" + std::to_string(pipes.adopt[0]));
    prefork->finalize();
  }
  plan.finalize();

  int err_pipe[2];
  if (pipe2(err_pipe, O_CLOEXEC) != 0) throw_errno(env, errno, "pipe2");
  int sync_pipe[2] = {-1, -1};
  if ((clone_flags & CLONE_NEWUSER) && pipe2(sync_pipe, O_CLOEXEC) != 0) {
    int err = errno;
    close(err_pipe[0]);
    close(err_pipe[1]);
    throw_errno(env, err, "pipe2");
  }

  // Block every signal across fork: the child must not run pidone's handlers (they
  // would write to pidone's self-pipe) before it has reset them.
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  // With namespace flags, clone(2) with no new stack behaves as fork(2) does, in new
  // namespaces: the child is PID 1 of the new PID namespace.
  pid_t pid = clone_flags == 0
                  ? fork()
                  : static_cast<pid_t>(syscall(SYS_clone, clone_flags | SIGCHLD, nullptr, nullptr, nullptr, nullptr));
  if (pid == 0) {
    close(err_pipe[0]);
    close_fd(sync_pipe[1]);
    if (clone_flags != 0) enter_namespaces(clone_flags, sync_pipe[0], err_pipe[1]);
    if (prefork) {
      // This process is single-threaded now, so a plain fork is safe.
      pid_t first = fork();
      if (first == 0) run_prefork_child(*prefork, pipes);
      if (first < 0) child_fail(err_pipe[1], errno, kForkInNamespace);
      close_fd(pipes.go[0]);
      close_fd(pipes.adopt[1]);
    }
    prepare_child(plan, err_pipe[1]);
    exec_child(plan, err_pipe[1]);
  }
  int fork_errno = errno;
  if (pid > 0 && !plan.setsid) {
    // Also from the parent, so the group exists whichever of the two runs first
    // (setpgid(2); EACCES once the child has exec'd means it already did it itself).
    setpgid(pid, pid);
  }
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  close(err_pipe[1]);
  for (int* fd : {&pipes.go[0], &pipes.go[1], &pipes.adopt[0], &pipes.adopt[1]}) close_fd(*fd);
  if (sync_pipe[0] >= 0) {
    close_fd(sync_pipe[0]);
    if (pid > 0 && write_id_maps(pid)) {
      ssize_t ignored = write(sync_pipe[1], "g", 1);
      (void)ignored;
    }
    close_fd(sync_pipe[1]);
  }
  if (pid < 0) {
    close(err_pipe[0]);
    throw_errno(env, fork_errno, clone_flags == 0 ? "fork" : "clone");
  }

  ChildFailure failure = {};
  bool failed = read_failure(err_pipe[0], &failure);
  close(err_pipe[0]);
  if (failed) {
    // The child never ran the command: collect it here so it is not mistaken for the
    // command's own exit.
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    throw_errno(env, failure.err, stage_syscall(failure.stage));
  }
  return Napi::Number::New(env, pid);
}

// AdoptPreforked(goFd, adoptFd) -> pid: take over the first child that the namespace
// set-up forked before this process exec'd (Spawn's namespaceChild): read its pid, let
// it exec, and learn whether the exec worked, exactly as Spawn would report it.
Napi::Value AdoptPreforked(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* usage = "adoptPreforked(goFd: number, adoptFd: number)";
  int go = arg_int(info, 0, usage);
  int adopt = arg_int(info, 1, usage);
  pid_t pid = 0;
  ssize_t n;
  do {
    n = read(adopt, &pid, sizeof pid);
  } while (n < 0 && errno == EINTR);
  if (n != static_cast<ssize_t>(sizeof pid)) {
    close(go);
    close(adopt);
    throw_errno(env, ECHILD, "adopt");
  }
  // EPIPE here means the child already failed; its ChildFailure is in the pipe.
  ssize_t ignored = write(go, "g", 1);
  (void)ignored;
  close(go);
  ChildFailure failure = {};
  bool failed = read_failure(adopt, &failure);
  close(adopt);
  if (failed) {
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    throw_errno(env, failure.err, stage_syscall(failure.stage));
  }
  return Napi::Number::New(env, pid);
}

// SetChildNofileLimit(soft): every child spawned from now on starts with this
// RLIMIT_NOFILE soft limit (see g_child_nofile_soft).
Napi::Value SetChildNofileLimit(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsNumber()) {
    throw Napi::TypeError::New(info.Env(), "Usage: setChildNofileLimit(soft: number)");
  }
  g_child_nofile_soft = static_cast<long>(info[0].As<Napi::Number>().Int64Value());
  return info.Env().Undefined();
}

}  // namespace

void init_spawn(Napi::Env env, Napi::Object exports) {
  exports.Set("setChildNofileLimit", Napi::Function::New(env, SetChildNofileLimit));
  exports.Set("spawn", Napi::Function::New(env, Spawn));
  exports.Set("adoptPreforked", Napi::Function::New(env, AdoptPreforked));
}

}  // namespace pidone
