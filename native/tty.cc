// The controlling terminal: isatty(3), tcgetpgrp(3), tcsetpgrp(3).
#include <errno.h>
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
// ignores or blocks it (tcsetpgrp(3)); pidone ignores SIGTTOU around the call.
Napi::Value Tcsetpgrp(const Napi::CallbackInfo& info) {
  const char* usage = "tcsetpgrp(fd: number, pgid: number)";
  int fd = arg_int(info, 0, usage);
  int pgid = arg_int(info, 1, usage);
  if (tcsetpgrp(fd, pgid) != 0) throw_errno(info.Env(), errno, "tcsetpgrp", pgid);
  return info.Env().Undefined();
}

}  // namespace

void init_tty(Napi::Env env, Napi::Object exports) {
  exports.Set("isatty", Napi::Function::New(env, Isatty));
  exports.Set("tcgetpgrp", Napi::Function::New(env, Tcgetpgrp));
  exports.Set("tcsetpgrp", Napi::Function::New(env, Tcsetpgrp));
}

}  // namespace pidone
