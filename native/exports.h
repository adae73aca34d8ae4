// Each file registers its own functions on the addon's exports.
#pragma once
#include <napi.h>

namespace pidone {
void init_spawn(Napi::Env env, Napi::Object exports);
void init_wait(Napi::Env env, Napi::Object exports);
void init_signals(Napi::Env env, Napi::Object exports);
void init_process(Napi::Env env, Napi::Object exports);
void init_prctl(Napi::Env env, Napi::Object exports);
void init_pidfd(Napi::Env env, Napi::Object exports);
void init_tty(Napi::Env env, Napi::Object exports);
void init_bytes(Napi::Env env, Napi::Object exports);
}  // namespace pidone
