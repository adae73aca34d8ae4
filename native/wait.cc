// Reaping: waitpid(-1, WNOHANG) until nothing is left to collect. SIGCHLDs coalesce
// (a standard signal is pending at most once, signal(7)), so one SIGCHLD may stand for
// many exits; only a loop that runs until 0 or ECHILD collects them all.
#include <errno.h>
#include <sys/wait.h>

#include "errors.h"
#include "exports.h"

namespace pidone {
namespace {

// Reap() -> { statuses: number[] (pid, exited ? 0 : 1, code or signal, core) * n,
//             noChildren: boolean }
Napi::Value Reap(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Array statuses = Napi::Array::New(env);
  uint32_t n = 0;
  bool no_children = false;
  for (;;) {
    int status = 0;
    pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid == 0) break;
    if (pid < 0) {
      if (errno == EINTR) continue;
      if (errno == ECHILD) {
        no_children = true;
        break;
      }
      throw_errno(env, errno, "waitpid");
    }
    bool exited = WIFEXITED(status);
    statuses[n++] = Napi::Number::New(env, pid);
    statuses[n++] = Napi::Number::New(env, exited ? 0 : 1);
    statuses[n++] = Napi::Number::New(env, exited ? WEXITSTATUS(status) : WTERMSIG(status));
    statuses[n++] = Napi::Number::New(env, !exited && WCOREDUMP(status) ? 1 : 0);
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("statuses", statuses);
  out.Set("noChildren", Napi::Boolean::New(env, no_children));
  return out;
}

}  // namespace

void init_wait(Napi::Env env, Napi::Object exports) {
  exports.Set("reap", Napi::Function::New(env, Reap));
}

}  // namespace pidone
