// The controlling terminal: isatty(3), tcgetpgrp(3), tcsetpgrp(3).
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "errors.h"
#include "exports.h"

namespace pidone {
namespace {

Napi::Value Isatty(const Napi::CallbackInfo& info) {
  int fd = arg_int(info, 0, "isatty(fd: number)");
  return Napi::Boolean::New(info.Env(), isatty(fd) == 1);
}

Napi::Value Tcgetpgrp(const Napi::CallbackInfo& info) {
  int fd = arg_int(info, 0, "tcgetpgrp(fd: number)");
  pid_t pgrp = tcgetpgrp(fd);
  if (pgrp < 0) throw_errno(info.Env(), errno, "tcgetpgrp");
  return Napi::Number::New(info.Env(), pgrp);
}

// Tcsetpgrp(fd, pgid). A caller outside the foreground group gets SIGTTOU unless it
// ignores or blocks it (tcsetpgrp(3)). pidone catches SIGTTOU with a handler and
// SA_RESTART, which would make the call restart forever; blocking SIGTTOU in this
// thread for the call makes the kernel allow it (tty_check_change()).
Napi::Value Tcsetpgrp(const Napi::CallbackInfo& info) {
  const char* usage = "tcsetpgrp(fd: number, pgid: number)";
  int fd = arg_int(info, 0, usage);
  int pgid = arg_int(info, 1, usage);
  sigset_t block, old;
  sigemptyset(&block);
  sigaddset(&block, SIGTTOU);
  sigaddset(&block, SIGTTIN);
  pthread_sigmask(SIG_BLOCK, &block, &old);
  int rc = tcsetpgrp(fd, pgid);
  int err = errno;
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  if (rc != 0) throw_errno(info.Env(), err, "tcsetpgrp", pgid);
  return info.Env().Undefined();
}

// Tiocnotty(fd): give up the controlling terminal (tty_ioctl(4), TIOCNOTTY), so that a
// child in a new session can take it. A session leader doing this makes the kernel
// send SIGHUP and SIGCONT to the terminal's foreground group.
Napi::Value Tiocnotty(const Napi::CallbackInfo& info) {
  int fd = arg_int(info, 0, "tiocnotty(fd: number)");
  if (ioctl(fd, TIOCNOTTY) != 0) throw_errno(info.Env(), errno, "ioctl(TIOCNOTTY)");
  return info.Env().Undefined();
}

}  // namespace

void init_tty(Napi::Env env, Napi::Object exports) {
  exports.Set("isatty", Napi::Function::New(env, Isatty));
  exports.Set("tcgetpgrp", Napi::Function::New(env, Tcgetpgrp));
  exports.Set("tcsetpgrp", Napi::Function::New(env, Tcsetpgrp));
  exports.Set("tiocnotty", Napi::Function::New(env, Tiocnotty));
}

}  // namespace pidone
