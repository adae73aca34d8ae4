#include "errors.h"

#include <uv.h>

#include <cstring>
#include <string>

namespace pidone {

namespace {

// The errno's name ("ENOEXEC"). glibc 2.32+ knows every one; libuv's table (used
// before that) lacks some that exec and wait return, such as ENOEXEC and ECHILD.
const char* errno_name(int err) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
  const char* name = strerrorname_np(err);
  if (name != nullptr) return name;
#endif
  return uv_err_name(-err);
}

}  // namespace

Napi::Error errno_error(Napi::Env env, int err, const char* syscall, int pid) {
  const char* code = errno_name(err);
  std::string message = std::string(code) + ": " + strerror(err) + ", " + syscall;
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("code", Napi::String::New(env, code));
  error.Set("errno", Napi::Number::New(env, err));
  error.Set("syscall", Napi::String::New(env, syscall));
  if (pid != 0) error.Set("pid", Napi::Number::New(env, pid));
  return error;
}

void throw_errno(Napi::Env env, int err, const char* syscall, int pid) { throw errno_error(env, err, syscall, pid); }

void check_args(const Napi::CallbackInfo& info, size_t count, const char* usage) {
  if (info.Length() < count) {
    throw Napi::TypeError::New(info.Env(), std::string("Usage: ") + usage);
  }
}

int32_t arg_int(const Napi::CallbackInfo& info, size_t i, const char* usage) {
  if (i >= info.Length() || !info[i].IsNumber()) {
    throw Napi::TypeError::New(info.Env(), std::string("Usage: ") + usage);
  }
  return info[i].As<Napi::Number>().Int32Value();
}

}  // namespace pidone
