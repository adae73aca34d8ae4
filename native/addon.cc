// pidone's native addon: the system calls Node does not expose. It holds no policy:
// every decision (what to forward, when to reap, how to exit) is made in TypeScript.
#include <napi.h>

#include "exports.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  pidone::init_signals(env, exports);
  pidone::init_spawn(env, exports);
  pidone::init_wait(env, exports);
  pidone::init_process(env, exports);
  pidone::init_prctl(env, exports);
  pidone::init_pidfd(env, exports);
  pidone::init_tty(env, exports);
  pidone::init_bytes(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(pidone, Init)
