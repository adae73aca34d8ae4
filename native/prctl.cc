// prctl(2): child subreaper and parent-death signal.
#include <errno.h>
#include <sys/prctl.h>

#include "errors.h"
#include "exports.h"

namespace pidone {
namespace {

// SetChildSubreaper(on): PR_SET_CHILD_SUBREAPER. Orphaned descendants are reparented
// to the nearest living subreaper ancestor instead of the namespace's init.
Napi::Value SetChildSubreaper(const Napi::CallbackInfo& info) {
  int on = arg_int(info, 0, "setChildSubreaper(on: 0 | 1)");
  if (prctl(PR_SET_CHILD_SUBREAPER, on ? 1 : 0, 0, 0, 0) != 0) {
    throw_errno(info.Env(), errno, "prctl(PR_SET_CHILD_SUBREAPER)");
  }
  return info.Env().Undefined();
}

Napi::Value GetChildSubreaper(const Napi::CallbackInfo& info) {
  int value = 0;
  if (prctl(PR_GET_CHILD_SUBREAPER, &value, 0, 0, 0) != 0) {
    throw_errno(info.Env(), errno, "prctl(PR_GET_CHILD_SUBREAPER)");
  }
  return Napi::Boolean::New(info.Env(), value != 0);
}

// SetParentDeathSignal(signo): PR_SET_PDEATHSIG. The signal comes when the *thread*
// that forked us exits; for pidone that is its parent's main thread.
Napi::Value SetParentDeathSignal(const Napi::CallbackInfo& info) {
  int sig = arg_int(info, 0, "setParentDeathSignal(signo: number)");
  if (prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0) != 0) throw_errno(info.Env(), errno, "prctl(PR_SET_PDEATHSIG)");
  return info.Env().Undefined();
}

}  // namespace

void init_prctl(Napi::Env env, Napi::Object exports) {
  exports.Set("setChildSubreaper", Napi::Function::New(env, SetChildSubreaper));
  exports.Set("getChildSubreaper", Napi::Function::New(env, GetChildSubreaper));
  exports.Set("setParentDeathSignal", Napi::Function::New(env, SetParentDeathSignal));
}

}  // namespace pidone
