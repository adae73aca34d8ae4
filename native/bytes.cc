// The process's own argv and environ, as bytes (see bytes.h for how bytes become JS
// strings and back). Node decodes both as UTF-8 and replaces what is not; an init must
// hand its child what it was given, byte for byte, as tini or a shell do.
#include "bytes.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <vector>

#include "exports.h"
#include "fd.h"

extern char** environ;

namespace pidone {
namespace {

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// The process's argument vector as the kernel laid it out for execve(2). glibc calls a
// shared object's ELF constructors, dlopen'ed ones too, with (argc, argv, envp), argv
// being the process's own (__libc_argv): Node's copy (uv_setup_args) leaves these
// strings in place, and only a process title (process.title, --title) would overwrite
// them, which pidone never sets. Elsewhere (musl passes no arguments to
// constructors), /proc/self/cmdline holds the same bytes (proc(5)).
std::vector<std::string>* captured_argv = nullptr;

#ifdef __GLIBC__
__attribute__((constructor)) void capture_argv(int argc, char** argv, char** /* envp */) {
  if (argc <= 0 || argv == nullptr) return;
  auto* copy = new std::vector<std::string>();
  copy->reserve(static_cast<size_t>(argc));
  for (int i = 0; i < argc && argv[i] != nullptr; i++) copy->emplace_back(argv[i]);
  captured_argv = copy;
}
#endif

std::string cmdline_from_proc() {
  std::string data;
  Fd fd(open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC));
  if (!fd.is_open()) return data;
  char buffer[65536];
  for (;;) {
    ssize_t n = read_full(fd.get(), buffer, sizeof buffer);
    if (n <= 0) break;
    data.append(buffer, static_cast<size_t>(n));
  }
  return data;
}

// Entries, each followed by a NUL, in one Buffer: cheaper than one JS value per entry
// (Node's own UTF-8 decoding would lose the bytes; src/environment.ts decodes).
Napi::Value to_buffer(Napi::Env env, const std::string& data) {
  return Napi::Buffer<char>::Copy(env, data.data(), data.size());
}

// argv() -> Buffer: this process's argv, argv[0] and Node's own options included.
Napi::Value Argv(const Napi::CallbackInfo& info) {
  std::string data;
  if (captured_argv != nullptr) {
    for (const std::string& arg : *captured_argv) data.append(arg.c_str(), arg.size() + 1);
  } else {
    data = cmdline_from_proc();
  }
  return to_buffer(info.Env(), data);
}

// environ() -> Buffer: every entry of environ(7), in order, as it is: duplicate names,
// entries without '=' and all. One pass over the array: reading process.env name by
// name costs a scan of environ per name (getenv(3)), quadratic in its size.
Napi::Value Environ(const Napi::CallbackInfo& info) {
  size_t size = 0;
  for (char** e = environ; e != nullptr && *e != nullptr; e++) size += strlen(*e) + 1;
  std::string data;
  data.reserve(size);
  for (char** e = environ; e != nullptr && *e != nullptr; e++) data.append(*e, strlen(*e) + 1);
  return to_buffer(info.Env(), data);
}

}  // namespace

std::string string_to_bytes(Napi::String value) {
  std::u16string units = value.Utf16Value();
  std::string out;
  out.reserve(units.size());
  for (size_t i = 0; i < units.size(); i++) {
    uint32_t u = units[i];
    if (u >= 0xD800 && u <= 0xDBFF && i + 1 < units.size() && units[i + 1] >= 0xDC00 && units[i + 1] <= 0xDFFF) {
      append_utf8(out, 0x10000 + ((u - 0xD800) << 10) + (units[i + 1] - 0xDC00));
      i++;
    } else if (u >= 0xDC80 && u <= 0xDCFF) {
      out += static_cast<char>(u - 0xDC00);
    } else if (u >= 0xD800 && u <= 0xDFFF) {
      append_utf8(out, 0xFFFD);
    } else {
      append_utf8(out, u);
    }
  }
  return out;
}

void init_bytes(Napi::Env env, Napi::Object exports) {
  exports.Set("argv", Napi::Function::New(env, Argv));
  exports.Set("environ", Napi::Function::New(env, Environ));
}

}  // namespace pidone
