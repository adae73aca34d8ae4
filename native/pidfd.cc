// pidfd_open(2) and pidfd_send_signal(2): a handle on one process that a recycled pid
// can never alias. Raw syscalls, so the addon also builds against a libc without the
// wrappers; ENOSYS on kernels before 5.3 tells the caller to fall back to kill(2).
#include <errno.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "errors.h"
#include "exports.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif
#ifndef PIDFD_NONBLOCK
#define PIDFD_NONBLOCK 04000
#endif

namespace pidone {
namespace {

// PidfdOpen(pid) -> fd (O_CLOEXEC, always, per pidfd_open(2)), or null on ENOSYS.
Napi::Value PidfdOpen(const Napi::CallbackInfo& info) {
  int pid = arg_int(info, 0, "pidfdOpen(pid: number)");
  long fd = syscall(SYS_pidfd_open, pid, 0);
  if (fd < 0) {
    if (errno == ENOSYS) return info.Env().Null();
    throw_errno(info.Env(), errno, "pidfd_open", pid);
  }
  return Napi::Number::New(info.Env(), static_cast<double>(fd));
}

Napi::Value PidfdSendSignal(const Napi::CallbackInfo& info) {
  const char* usage = "pidfdSendSignal(pidfd: number, signo: number)";
  int fd = arg_int(info, 0, usage);
  int sig = arg_int(info, 1, usage);
  if (syscall(SYS_pidfd_send_signal, fd, sig, nullptr, 0) != 0) {
    throw_errno(info.Env(), errno, "pidfd_send_signal");
  }
  return info.Env().Undefined();
}

Napi::Value Close(const Napi::CallbackInfo& info) {
  int fd = arg_int(info, 0, "close(fd: number)");
  if (close(fd) != 0 && errno != EINTR) throw_errno(info.Env(), errno, "close");
  return info.Env().Undefined();
}

}  // namespace

void init_pidfd(Napi::Env env, Napi::Object exports) {
  exports.Set("pidfdOpen", Napi::Function::New(env, PidfdOpen));
  exports.Set("pidfdSendSignal", Napi::Function::New(env, PidfdSendSignal));
  exports.Set("close", Napi::Function::New(env, Close));
}

}  // namespace pidone
