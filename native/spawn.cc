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
#include "fd.h"
#include "namespaces.h"

namespace pidone {
namespace {

// The spawn(candidates, argv, envp, options) call, decoded.
struct SpawnRequest {
  ExecPlan plan;
  int clone_flags = 0;
  // options.namespaceChild: the command the new namespace's init forks before it execs.
  std::unique_ptr<ExecPlan> prefork;
};

// Every pipe of one spawn, each end closed with this object unless handed over: an
// error while opening the next one closes those opened before.
struct SpawnPipes {
  Pipe failure;  // child -> parent: a ChildFailure, or EOF once exec closed it (O_CLOEXEC)
  Pipe userns;   // parent -> child: one byte once the uid/gid maps are written (CLONE_NEWUSER)
  Pipe go;       // namespace init -> pre-forked child: one byte means "exec now"
  Pipe adopt;    // pre-forked child -> namespace init: its pid, then a ChildFailure or EOF on exec
};

// The Error for a failure at `stage` (a ChildFailure's, or the parent's own fork or
// clone). Stages of namespace set-up say so (namespaceSetup: true): LinuxKernel turns
// those into a NamespaceRefusedError.
[[noreturn]] void throw_stage_error(Napi::Env env, int err, int stage) {
  const StageInfo* info = stage_info(stage);
  Napi::Error error = errno_error(env, err, info != nullptr ? info->syscall : "spawn");
  if (info != nullptr && info->namespace_setup) error.Set("namespaceSetup", Napi::Boolean::New(env, true));
  throw error;
}

// Wait until the child at the other end of `failure_fd` exec'd (EOF: the pipe was
// close-on-exec) or reported why it could not (a ChildFailure). In that case the child
// is reaped here and its failure thrown.
void await_exec(Napi::Env env, int failure_fd, pid_t pid) {
  ChildFailure failure = {};
  if (read_full(failure_fd, &failure, sizeof failure) != static_cast<ssize_t>(sizeof failure)) return;
  reap_failed_child(pid);
  throw_stage_error(env, failure.err, failure.stage);
}

SpawnRequest decode_request(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* usage = "spawn(candidates: string[], argv: string[], envp: string[], options: object)";
  check_args(info, 4, usage);
  if (!info[3].IsObject()) throw Napi::TypeError::New(env, std::string("Usage: ") + usage);
  Napi::Object options = info[3].As<Napi::Object>();
  Napi::Value clone_value = options.Get("cloneFlags");
  SpawnRequest req{ExecPlan::from_js(env, info[0], info[1], info[2], options),
                   clone_value.IsNumber() ? clone_value.As<Napi::Number>().Int32Value() : 0, nullptr};
  Napi::Value ns_child = options.Get("namespaceChild");
  if (req.clone_flags != 0 && ns_child.IsObject()) {
    Napi::Object c = ns_child.As<Napi::Object>();
    if (!c.Get("options").IsObject()) throw Napi::TypeError::New(env, "spawn: namespaceChild.options must be an object");
    req.prefork.reset(new ExecPlan(
        ExecPlan::from_js(env, c.Get("candidates"), c.Get("argv"), c.Get("envp"), c.Get("options").As<Napi::Object>())));
  }
  return req;
}

void open_pipe(Napi::Env env, Pipe& pipe) {
  int err = pipe.open(O_CLOEXEC);
  if (err != 0) throw_errno(env, err, "pipe2");
}

// Opens the pipes the request needs and finalizes its plans (nothing allocates after).
void open_pipes(Napi::Env env, SpawnRequest& req, SpawnPipes& pipes) {
  if (req.prefork) {
    open_pipe(env, pipes.go);
    open_pipe(env, pipes.adopt);
    // The init keeps its ends across exec and learns their numbers from the environment.
    req.plan.keep(pipes.go.write.get());
    req.plan.keep(pipes.adopt.read.get());
    req.plan.add_env("PIDONE_PREFORKED=" + std::to_string(pipes.go.write.get()) + ":" +
                     std::to_string(pipes.adopt.read.get()));
    req.prefork->finalize();
  }
  req.plan.finalize();
  open_pipe(env, pipes.failure);
  if (req.clone_flags & CLONE_NEWUSER) open_pipe(env, pipes.userns);
}

// The pre-forked first child of a new PID namespace (pid 2 there): it prepares itself
// as the command, tells the init its pid, and waits for the init (pidone, after it
// has exec'd Node and installed its signal handlers) to say "go".
[[noreturn]] void run_prefork_child(ExecPlan& plan, SpawnPipes& pipes) {
  pipes.go.write.reset();
  pipes.adopt.read.reset();
  int adopt = pipes.adopt.write.get();
  pid_t self = getpid();
  ssize_t ignored = write(adopt, &self, sizeof self);
  (void)ignored;
  prepare_child(plan, adopt);
  char byte;
  if (read_full(pipes.go.read.get(), &byte, 1) != 1) _exit(127);  // the init died before adopting us
  pipes.go.read.reset();
  exec_child(plan, adopt);
}

// The child of fork/clone, until it is the command (or a namespace's init that forks
// the command first). Async-signal-safe calls only.
[[noreturn]] void run_child(SpawnRequest& req, SpawnPipes& pipes) {
  pipes.failure.read.reset();
  pipes.userns.write.reset();
  int failure_fd = pipes.failure.write.get();
  if (req.clone_flags != 0) enter_namespaces(req.clone_flags, pipes.userns.read.get(), failure_fd);
  if (req.prefork) {
    // This process is single-threaded now, so a plain fork is safe.
    pid_t first = fork();
    if (first == 0) run_prefork_child(*req.prefork, pipes);
    if (first < 0) child_fail(failure_fd, errno, kFork);
    pipes.go.read.reset();
    pipes.adopt.write.reset();
  }
  prepare_child(req.plan, failure_fd);
  exec_child(req.plan, failure_fd);
}

// fork(2), or clone(2) with namespace flags, with every signal blocked across it: the
// child must not run pidone's handlers (they would write to pidone's self-pipe) before
// it has reset them. Returns the pid, or -1 with errno set.
pid_t fork_child(SpawnRequest& req, SpawnPipes& pipes) {
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  // With namespace flags, clone(2) with no new stack behaves as fork(2) does, in new
  // namespaces: the child is PID 1 of the new PID namespace.
  pid_t pid = req.clone_flags == 0 ? fork()
                                   : static_cast<pid_t>(syscall(SYS_clone, req.clone_flags | SIGCHLD, nullptr,
                                                                nullptr, nullptr, nullptr));
  if (pid == 0) run_child(req, pipes);
  int fork_errno = errno;
  if (pid > 0 && !req.plan.setsid) {
    // Also from the parent, so the group exists whichever of the two runs first
    // (setpgid(2); EACCES once the child has exec'd means it already did it itself).
    setpgid(pid, pid);
  }
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  errno = fork_errno;
  return pid;
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
  SpawnRequest req = decode_request(info);
  SpawnPipes pipes;
  open_pipes(env, req, pipes);

  pid_t pid = fork_child(req, pipes);
  int fork_errno = errno;
  // The parent's copies of the child's ends: the failure pipe reads EOF only once
  // every write end is closed, and the pre-forked child must see EOF on "go" when the
  // namespace's init dies.
  pipes.failure.write.reset();
  pipes.go.reset();
  pipes.adopt.reset();
  pipes.userns.read.reset();
  if (pipes.userns.write.is_open() && pid > 0 && write_id_maps(pid)) {
    ssize_t ignored = write(pipes.userns.write.get(), "g", 1);
    (void)ignored;
  }
  pipes.userns.write.reset();
  if (pid < 0) throw_stage_error(env, fork_errno, req.clone_flags == 0 ? kFork : kClone);

  await_exec(env, pipes.failure.read.get(), pid);
  return Napi::Number::New(env, pid);
}

// AdoptPreforked(goFd, adoptFd) -> pid: take over the first child that the namespace
// set-up forked before this process exec'd (Spawn's namespaceChild): read its pid, let
// it exec, and learn whether the exec worked, exactly as Spawn would report it.
Napi::Value AdoptPreforked(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* usage = "adoptPreforked(goFd: number, adoptFd: number)";
  int go_fd = arg_int(info, 0, usage);
  int adopt_fd = arg_int(info, 1, usage);
  // Ours from here on, whatever happens: the pre-forked child sees EOF on "go" if we fail.
  Fd go(go_fd);
  Fd adopt(adopt_fd);
  pid_t pid = 0;
  if (read_full(adopt.get(), &pid, sizeof pid) != static_cast<ssize_t>(sizeof pid)) throw_errno(env, ECHILD, "adopt");
  // EPIPE here means the child already failed; its ChildFailure is in the pipe.
  ssize_t ignored = write(go.get(), "g", 1);
  (void)ignored;
  go.reset();
  await_exec(env, adopt.get(), pid);
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
