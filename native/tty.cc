// The controlling terminal: isatty(3), tcgetpgrp(3), tcsetpgrp(3).
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <initializer_list>
#include <string>

#include "errors.h"
#include "exports.h"

namespace pidone {
namespace {

// Blocks the given job-control signals in the calling thread for the guard's lifetime,
// then restores the thread's mask. tty_check_change() lets a caller outside the
// terminal's foreground group go ahead, instead of sending it SIGTTOU/SIGTTIN, when it
// blocks or ignores the signal; pidone catches them with SA_RESTART, so without the
// block the kernel would restart the call, raise the signal again, and never finish.
class BlockedSignals {
 public:
  explicit BlockedSignals(std::initializer_list<int> signos) {
    sigset_t block;
    sigemptyset(&block);
    for (int sig : signos) sigaddset(&block, sig);
    pthread_sigmask(SIG_BLOCK, &block, &old_);
  }
  ~BlockedSignals() { pthread_sigmask(SIG_SETMASK, &old_, nullptr); }
  BlockedSignals(const BlockedSignals&) = delete;
  BlockedSignals& operator=(const BlockedSignals&) = delete;

 private:
  sigset_t old_;
};

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
  int rc, err;
  {
    BlockedSignals blocked({SIGTTOU, SIGTTIN});
    rc = tcsetpgrp(fd, pgid);
    err = errno;
  }
  if (rc != 0) throw_errno(info.Env(), err, "tcsetpgrp", pgid);
  return info.Env().Undefined();
}

// WriteWithSigttouBlocked(fd, text): write(2) all of text, with SIGTTOU blocked in this
// thread. For a terminal with TOSTOP set (stty tostop), n_tty_write() first calls
// tty_check_change(): a writer outside the foreground group gets SIGTTOU, unless it
// blocks or ignores SIGTTOU (is_ignored() looks at this thread's mask), and the write
// fails with ERESTARTSYS. pidone catches SIGTTOU with SA_RESTART, so the kernel would
// restart that write, raise SIGTTOU again, and spin forever. Blocked, the write goes
// through, as it would for a process that ignores SIGTTOU. A SIGTTOU that someone else
// sends meanwhile is not lost: it goes to a thread that does not block it, or stays
// pending until the mask is restored, and the handler counts it then.
// Throws the errno of a failed write (EPIPE, EAGAIN, EIO from an orphaned group).
Napi::Value WriteWithSigttouBlocked(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsString()) {
    throw Napi::TypeError::New(env, "Usage: writeWithSigttouBlocked(fd: number, text: string)");
  }
  int fd = info[0].As<Napi::Number>().Int32Value();
  std::string text = info[1].As<Napi::String>().Utf8Value();
  const char* p = text.data();
  size_t left = text.size();
  int err = 0;
  {
    BlockedSignals blocked({SIGTTOU});
    while (left > 0) {
      ssize_t n = write(fd, p, left);
      if (n < 0) {
        if (errno == EINTR) continue;
        err = errno;
        break;
      }
      p += n;
      left -= static_cast<size_t>(n);
    }
  }
  if (err != 0) throw_errno(env, err, "write");
  return env.Undefined();
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
  exports.Set("writeWithSigttouBlocked", Napi::Function::New(env, WriteWithSigttouBlocked));
}

}  // namespace pidone
