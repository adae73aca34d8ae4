// Errors crossing from C++ to JS: a JS Error with Node's errno fields (code, errno,
// syscall), so the TypeScript side can turn it into a KernelError without parsing text.
#pragma once
#include <napi.h>

namespace pidone {

// An Error for `err` raised by `syscall`, for a caller that adds fields of its own.
Napi::Error errno_error(Napi::Env env, int err, const char* syscall, int pid = 0);
// Throws (as a C++ exception Napi::Error) errno_error(env, err, syscall, pid).
[[noreturn]] void throw_errno(Napi::Env env, int err, const char* syscall, int pid = 0);

// Argument checks: "Usage: <usage>" when the JS side passed the wrong shape.
void check_args(const Napi::CallbackInfo& info, size_t count, const char* usage);
int32_t arg_int(const Napi::CallbackInfo& info, size_t i, const char* usage);

}  // namespace pidone
