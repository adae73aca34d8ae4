// Process identity and kill(2).
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include "errors.h"
#include "exports.h"

namespace pidone {
namespace {

// Ids() -> [pid, ppid, pgid, sid]
Napi::Value Ids(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Array out = Napi::Array::New(env, 4);
  out[0u] = Napi::Number::New(env, getpid());
  out[1u] = Napi::Number::New(env, getppid());
  out[2u] = Napi::Number::New(env, getpgrp());
  out[3u] = Napi::Number::New(env, getsid(0));
  return out;
}

// Kill(target, signo): kill(2); target < -1 is a group, -1 everyone we may signal.
Napi::Value Kill(const Napi::CallbackInfo& info) {
  const char* usage = "kill(target: number, signo: number)";
  int target = arg_int(info, 0, usage);
  int sig = arg_int(info, 1, usage);
  if (kill(target, sig) != 0) throw_errno(info.Env(), errno, "kill", target);
  return info.Env().Undefined();
}

// FdFlags(fd) -> fcntl(fd, F_GETFD), or -1 when fd is not open.
Napi::Value FdFlags(const Napi::CallbackInfo& info) {
  int fd = arg_int(info, 0, "fdFlags(fd: number)");
  return Napi::Number::New(info.Env(), fcntl(fd, F_GETFD));
}

// Geteuid() -> the effective uid (a user namespace is needed when it is not 0).
Napi::Value Geteuid(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), geteuid()); }

// UnblockSignals(signos): remove them from the calling thread's signal mask. Node
// blocks SIGUSR1 in every thread at start-up (PlatformInit) and unblocks it only when it
// starts its inspector's signal thread, which --disable-sigusr1 and the permission
// model skip: caught but blocked, a SIGUSR1 would stay pending for good. A signal
// pending meanwhile is delivered to the handler now (sigprocmask(2)).
Napi::Value UnblockSignals(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsArray()) throw Napi::TypeError::New(env, "Usage: unblockSignals(signos: number[])");
  Napi::Array signos = info[0].As<Napi::Array>();
  sigset_t set;
  sigemptyset(&set);
  for (uint32_t i = 0; i < signos.Length(); i++) sigaddset(&set, signos.Get(i).As<Napi::Number>().Int32Value());
  int rc = pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
  if (rc != 0) throw_errno(env, rc, "pthread_sigmask");
  return env.Undefined();
}

}  // namespace

void init_process(Napi::Env env, Napi::Object exports) {
  exports.Set("ids", Napi::Function::New(env, Ids));
  exports.Set("kill", Napi::Function::New(env, Kill));
  exports.Set("fdFlags", Napi::Function::New(env, FdFlags));
  exports.Set("geteuid", Napi::Function::New(env, Geteuid));
  exports.Set("unblockSignals", Napi::Function::New(env, UnblockSignals));
  exports.Set("CLONE_NEWPID", Napi::Number::New(env, CLONE_NEWPID));
  exports.Set("CLONE_NEWNS", Napi::Number::New(env, CLONE_NEWNS));
  exports.Set("CLONE_NEWUSER", Napi::Number::New(env, CLONE_NEWUSER));
}

}  // namespace pidone
