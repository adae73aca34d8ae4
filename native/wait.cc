// Reaping: waitpid(-1, WNOHANG) until nothing is left to collect. SIGCHLDs coalesce
// (a standard signal is pending at most once, signal(7)), so one SIGCHLD may stand for
// many exits; only a loop that runs until 0 or ECHILD collects them all.
#include <errno.h>
#include <signal.h>
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

// WaitableChildren(first, last) -> the pids in first..last that are children of this
// process, live or zombie. waitid(2) with WNOHANG returns 0 for a child that has not
// changed state and with WNOWAIT leaves a zombie in place; for a pid that is not a
// child it fails with ECHILD. __WALL also matches children with another exit signal
// than SIGCHLD. Needs no /proc, so it works where /proc is missing or foreign.
Napi::Value WaitableChildren(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* usage = "waitableChildren(first: number, last: number)";
  int first = arg_int(info, 0, usage);
  int last = arg_int(info, 1, usage);
  Napi::Array out = Napi::Array::New(env);
  uint32_t n = 0;
  for (int pid = first < 1 ? 1 : first; pid <= last; pid++) {
    siginfo_t si;
    si.si_pid = 0;
    int r;
    do {
      r = waitid(P_PID, static_cast<id_t>(pid), &si, WEXITED | WNOHANG | WNOWAIT | __WALL);
    } while (r != 0 && errno == EINTR);
    if (r == 0) out[n++] = Napi::Number::New(env, pid);
  }
  return out;
}

}  // namespace

void init_wait(Napi::Env env, Napi::Object exports) {
  exports.Set("reap", Napi::Function::New(env, Reap));
  exports.Set("waitableChildren", Napi::Function::New(env, WaitableChildren));
}

}  // namespace pidone
