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

}  // namespace

void init_process(Napi::Env env, Napi::Object exports) {
  exports.Set("ids", Napi::Function::New(env, Ids));
  exports.Set("kill", Napi::Function::New(env, Kill));
  exports.Set("fdFlags", Napi::Function::New(env, FdFlags));
  exports.Set("geteuid", Napi::Function::New(env, Geteuid));
  exports.Set("CLONE_NEWPID", Napi::Number::New(env, CLONE_NEWPID));
  exports.Set("CLONE_NEWNS", Napi::Number::New(env, CLONE_NEWNS));
  exports.Set("CLONE_NEWUSER", Napi::Number::New(env, CLONE_NEWUSER));
}

}  // namespace pidone
