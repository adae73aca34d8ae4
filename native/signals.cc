// Signal reception: sigaction(2) handlers that count deliveries and wake the event
// loop through a self-pipe.
//
// Why not signalfd: inside Node the libuv pool threads block no signals, so the kernel
// may deliver a process-directed signal to any of them instead of the signalfd
// (signalfd(2) only sees signals blocked in the reading thread).
// Why not process.on(): libuv's handler replaces ours for that signal, and removing a
// JS listener sets the signal to SIG_DFL.
//
// The handler never blocks and never loses a signal: it increments a per-signal
// counter (atomics are async-signal-safe) and writes one byte to a non-blocking pipe.
// When the pipe is full the write fails with EAGAIN, which is harmless: a wake-up is
// already pending, and the counters carry the signals. The reader drains the pipe
// first and reads the counters second, so a signal that lands in between leaves a
// byte behind and causes one more (possibly empty) batch, never a lost one.
//
// Fault signals (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP, SIGSYS) are caught too, so
// that one sent with kill(1) is forwarded like any other. The kernel tells the two
// kinds apart in si_code (sigaction(2), "The siginfo_t argument"): a fault of the
// thread itself carries a positive code (SEGV_MAPERR, BUS_ADRERR, FPE_INTDIV,
// ILL_ILLOPN, TRAP_BRKPT, SYS_SECCOMP, or SI_KERNEL from force_sig()), while kill(2),
// tgkill(2), pidfd_send_signal(2) and sigqueue(3) give SI_USER, SI_TKILL or SI_QUEUE,
// all <= 0. A real fault is pidone's own crash and stays one: see die_of_fault().
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <uv.h>

#include <atomic>
#include <cstdint>
#include <vector>

#include "errors.h"
#include "exports.h"

namespace pidone {
namespace {

constexpr int kMaxSignal = 64;  // _NSIG - 1 on Linux (x86, arm, ...).

std::atomic<uint32_t> g_count[kMaxSignal + 1];
// Deliveries the process sent itself: si_code SI_USER/SI_TKILL with si_pid == getpid(),
// which is how the kernel reports a SIGPIPE raised by our own write to a closed pipe
// (pipe_write() and sk_stream_error() call send_sig(SIGPIPE, current, 0)).
std::atomic<uint32_t> g_from_self[kMaxSignal + 1];
int g_pipe[2] = {-1, -1};
pid_t g_self_pid = 0;

struct sigaction g_saved[kMaxSignal + 1];
bool g_installed[kMaxSignal + 1];

uv_poll_t* g_poll = nullptr;
Napi::FunctionReference g_callback;
Napi::AsyncContext* g_async_context = nullptr;

// Signals 32 and 33 (the kernel's first real-time signals) are glibc's own: SIGCANCEL
// for pthread_cancel(3) and SIGSETXID for setuid(2) and friends in a threaded process
// (nptl(7)). glibc's sigaction() refuses them with EINVAL, so a plain process cannot
// catch them, and `kill -32` would kill pidone (or, as PID 1, be dropped) instead of
// reaching the child. So pidone installs its handler for them with the rt_sigaction
// system call itself, and keeps glibc working: glibc sends them only to its own threads
// (tgkill: SI_TKILL and our pid), and those deliveries go to the handler glibc had
// installed (SIGSETXID's, installed when the process started its first thread; Node
// has by then). One from any other process is forwarded. glibc installs SIGCANCEL's
// handler on the first pthread_cancel(), which pidone never calls; that would take 32
// back from pidone, and pthread_cancel() would still work.
//
// The kernel's struct sigaction (include/uapi/asm-generic/signal.h; the same layout on
// x86-64 and arm64). On x86-64 the kernel returns from a handler through sa_restorer,
// which must call rt_sigreturn; glibc sets its own (__restore_rt) on every handler it
// installs, so ours borrows it from a signal installed through glibc first.
#if defined(__x86_64__) || defined(__aarch64__)
#define PIDONE_RAW_SIGACTION 1
struct KernelSigaction {
  void (*handler)(int, siginfo_t*, void*);
  unsigned long flags;
  void (*restorer)(void);
  uint64_t mask;
};
constexpr unsigned long kSaRestorer = 0x04000000;  // SA_RESTORER, asm/signal.h
KernelSigaction g_reserved_saved[kMaxSignal + 1];

bool is_glibc_reserved(int sig) { return sig >= 32 && sig < SIGRTMIN; }

int raw_sigaction(int sig, const KernelSigaction* action, KernelSigaction* old) {
  return static_cast<int>(syscall(SYS_rt_sigaction, sig, action, old, sizeof(uint64_t)));
}

#endif

bool is_fault_signal(int sig) {
  return sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE || sig == SIGTRAP || sig == SIGSYS;
}

// A real fault of pidone's own (or its own abort()): end the process by `sig`, as it
// would have ended without pidone's handler, core dump included where enabled.
// - When a handler was there before ours (Node's SIGSEGV handler for V8's WebAssembly
//   traps), it gets the fault, as if ours were not there: it may recover (a wasm trap
//   resumes at a landing pad) or crash the process itself (Node's resets SIG_DFL and
//   re-raises).
// - Otherwise the default disposition is restored and the signal raised again. It is
//   blocked while this handler runs (sa_mask), so it is delivered, with SIG_DFL, as
//   soon as the handler returns. A PID 1 cannot kill itself that way (the kernel drops
//   a signal with SIG_DFL sent to a namespace's init, sig_task_ignored()), but a fault
//   re-runs the faulting instruction on return, and that second fault is forced
//   (force_sig_info_to_task() clears SIGNAL_UNKILLABLE). Either way it cannot loop: the
//   handler is no longer ours. (A SIGTRAP from int3 or a seccomp SIGSYS do not re-run
//   anything; as PID 1 those are dropped like any other signal PID 1 does not handle.)
void die_of_fault(int sig, siginfo_t* info, void* context) {
  const struct sigaction& previous = g_saved[sig];
  bool chained = (previous.sa_flags & SA_SIGINFO) != 0
                     ? previous.sa_sigaction != nullptr
                     : previous.sa_handler != SIG_DFL && previous.sa_handler != SIG_IGN;
  if (chained) {
    if ((previous.sa_flags & SA_SIGINFO) != 0) {
      previous.sa_sigaction(sig, info, context);
    } else {
      previous.sa_handler(sig);
    }
    return;
  }
  struct sigaction fallback = {};
  fallback.sa_handler = SIG_DFL;
  sigemptyset(&fallback.sa_mask);
  sigaction(sig, &fallback, nullptr);
  raise(sig);
}

#ifdef PIDONE_RAW_SIGACTION
// glibc's own use of 32 or 33 (its setxid broadcast): to the handler it had installed.
void pass_to_glibc(int sig, siginfo_t* info, void* context) {
  const KernelSigaction& previous = g_reserved_saved[sig];
  auto address = reinterpret_cast<uintptr_t>(previous.handler);
  if (address == reinterpret_cast<uintptr_t>(SIG_DFL) || address == reinterpret_cast<uintptr_t>(SIG_IGN)) return;
  if ((previous.flags & SA_SIGINFO) != 0) {
    previous.handler(sig, info, context);
  } else {
    reinterpret_cast<void (*)(int)>(address)(sig);
  }
}
#endif

void on_signal(int sig, siginfo_t* info, void* context) {
  int saved_errno = errno;
  if (info != nullptr && is_fault_signal(sig) && info->si_code > 0) {
    die_of_fault(sig, info, context);
    errno = saved_errno;
    return;
  }
  bool from_self = info != nullptr && (info->si_code == SI_USER || info->si_code == SI_TKILL) &&
                   info->si_pid == g_self_pid;
  // SIGABRT from pidone itself is its own abort(3) (glibc raises it with tgkill: SI_TKILL
  // and our pid, so si_code alone cannot tell it from a sent one; si_pid can). It stays
  // fatal: counting it and returning would only delay the death glibc's abort() makes
  // sure of, and the policy would forward it to the child meanwhile. A SIGABRT from any
  // other process is forwarded.
  if (sig == SIGABRT && from_self) {
    die_of_fault(sig, info, context);
    errno = saved_errno;
    return;
  }
#ifdef PIDONE_RAW_SIGACTION
  if (is_glibc_reserved(sig) && from_self) {
    pass_to_glibc(sig, info, context);
    errno = saved_errno;
    return;
  }
#endif
  if (sig > 0 && sig <= kMaxSignal) {
    (from_self ? g_from_self : g_count)[sig].fetch_add(1, std::memory_order_relaxed);
  }
  char byte = static_cast<char>(sig);
  ssize_t ignored = write(g_pipe[1], &byte, 1);  // EAGAIN: a wake-up is already pending.
  (void)ignored;
  errno = saved_errno;
}

void drain_pipe() {
  char buf[256];
  while (read(g_pipe[0], buf, sizeof buf) > 0) {
  }
}

// [signo, count, fromSelf, signo, count, fromSelf, ...] for every signal seen since
// the last call.
Napi::Array take_batch(Napi::Env env) {
  drain_pipe();
  Napi::Array out = Napi::Array::New(env);
  uint32_t n = 0;
  for (int sig = 1; sig <= kMaxSignal; sig++) {
    uint32_t count = g_count[sig].exchange(0, std::memory_order_relaxed);
    uint32_t self = g_from_self[sig].exchange(0, std::memory_order_relaxed);
    if (count == 0 && self == 0) continue;
    out[n++] = Napi::Number::New(env, sig);
    out[n++] = Napi::Number::New(env, count + self);
    out[n++] = Napi::Number::New(env, self);
  }
  return out;
}


#ifdef PIDONE_RAW_SIGACTION
// Install on_signal for a glibc-reserved signal; `model` is a signal whose handler
// glibc installed (ours), to copy the restorer from.
bool install_reserved(int sig, int model) {
  KernelSigaction from_glibc = {};
  if (raw_sigaction(model, nullptr, &from_glibc) != 0) return false;
  KernelSigaction action = {};
  action.handler = on_signal;
  action.restorer = from_glibc.restorer;
  action.mask = ~uint64_t{0};
  // Saved before ours replaces it (pass_to_glibc needs it from the first delivery on).
  if (!g_installed[sig] && raw_sigaction(sig, nullptr, &g_reserved_saved[sig]) != 0) return false;
  // SA_ONSTACK as glibc's own handler has it: glibc sends SIGSETXID to threads that
  // may run on small custom stacks.
  action.flags = SA_SIGINFO | SA_RESTART | (from_glibc.flags & kSaRestorer) | (g_reserved_saved[sig].flags & SA_ONSTACK);
  return raw_sigaction(sig, &action, nullptr) == 0;
}
#endif

// InstallSignalHandlers(signos: number[]): catch each signal with on_signal. Creates
// the self-pipe (O_NONBLOCK | O_CLOEXEC) on first use. Returns the signals that could
// not be caught.
Napi::Value InstallSignalHandlers(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsArray()) {
    throw Napi::TypeError::New(env, "Usage: installSignalHandlers(signos: number[])");
  }
  if (g_pipe[0] < 0) {
    if (pipe2(g_pipe, O_NONBLOCK | O_CLOEXEC) != 0) throw_errno(env, errno, "pipe2");
  }
  g_self_pid = getpid();
  Napi::Array signos = info[0].As<Napi::Array>();
  Napi::Array failed = Napi::Array::New(env);
  uint32_t nfailed = 0;
  for (uint32_t i = 0; i < signos.Length(); i++) {
    int sig = signos.Get(i).As<Napi::Number>().Int32Value();
    if (sig <= 0 || sig > kMaxSignal) {
      failed[nfailed++] = Napi::Number::New(env, sig);
      continue;
    }
#ifdef PIDONE_RAW_SIGACTION
    if (is_glibc_reserved(sig)) {
      // After the others: the model is the first signal installed through glibc.
      continue;
    }
#endif
    struct sigaction action = {};
    action.sa_sigaction = on_signal;
    // SA_RESTART: a signal must not turn a read or write of the runtime into EINTR.
    // SA_SIGINFO: si_pid/si_code tell our own SIGPIPE from a sent one.
    action.sa_flags = SA_SIGINFO | SA_RESTART;
    sigfillset(&action.sa_mask);
    // The disposition found is saved before ours replaces it: a real fault right after
    // the switch must find the handler to chain to (die_of_fault).
    if (!g_installed[sig]) {
      struct sigaction old = {};
      if (sigaction(sig, nullptr, &old) != 0) {
        failed[nfailed++] = Napi::Number::New(env, sig);
        continue;
      }
      g_saved[sig] = old;
    }
    if (sigaction(sig, &action, nullptr) != 0) {
      failed[nfailed++] = Napi::Number::New(env, sig);
      continue;
    }
    g_installed[sig] = true;
  }
  for (uint32_t i = 0; i < signos.Length(); i++) {
    int sig = signos.Get(i).As<Napi::Number>().Int32Value();
#ifdef PIDONE_RAW_SIGACTION
    if (sig <= 0 || sig > kMaxSignal || !is_glibc_reserved(sig)) continue;
    int model = 0;
    for (int m = 1; m <= kMaxSignal && model == 0; m++) {
      if (g_installed[m] && !is_glibc_reserved(m)) model = m;
    }
    if (model == 0 || !install_reserved(sig, model)) {
      failed[nfailed++] = Napi::Number::New(env, sig);
      continue;
    }
    g_installed[sig] = true;
#else
    (void)sig;
#endif
  }
  return failed;
}

// RestoreSignalHandlers(): put back the dispositions that were in place before
// InstallSignalHandlers. Pending counts are dropped.
Napi::Value RestoreSignalHandlers(const Napi::CallbackInfo& info) {
  for (int sig = 1; sig <= kMaxSignal; sig++) {
    if (!g_installed[sig]) continue;
#ifdef PIDONE_RAW_SIGACTION
    if (is_glibc_reserved(sig)) {
      raw_sigaction(sig, &g_reserved_saved[sig], nullptr);
      g_installed[sig] = false;
      continue;
    }
#endif
    sigaction(sig, &g_saved[sig], nullptr);
    g_installed[sig] = false;
  }
  return info.Env().Undefined();
}

// TakeSignals(): the pending batch, without waiting.
Napi::Value TakeSignals(const Napi::CallbackInfo& info) { return take_batch(info.Env()); }

void on_readable(uv_poll_t*, int status, int) {
  if (g_callback.IsEmpty()) return;
  Napi::Env env = g_callback.Env();
  Napi::HandleScope scope(env);
  if (status < 0) return;
  Napi::Array batch = take_batch(env);
  if (batch.Length() == 0) return;
  try {
    // MakeCallback, not Call: microtasks (promise continuations) run after it, as for
    // any libuv callback that enters JS.
    g_callback.MakeCallback(env.Global(), {batch}, *g_async_context);
  } catch (const Napi::Error& e) {
    // A throw in the JS handler becomes an uncaught exception in the process, which
    // the init handles; it must not unwind through libuv.
    napi_fatal_exception(env, e.Value());
  }
}

void close_poll() {
  if (g_poll == nullptr) return;
  uv_poll_stop(g_poll);
  uv_close(reinterpret_cast<uv_handle_t*>(g_poll),
           [](uv_handle_t* handle) { delete reinterpret_cast<uv_poll_t*>(handle); });
  g_poll = nullptr;
}

// WatchSignals(callback): call callback(batch) on the event loop whenever signals
// arrived. The watch keeps the event loop alive until UnwatchSignals.
Napi::Value WatchSignals(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsFunction()) {
    throw Napi::TypeError::New(env, "Usage: watchSignals(callback: (batch: number[]) => void)");
  }
  if (g_pipe[0] < 0) throw Napi::Error::New(env, "watchSignals: installSignalHandlers was not called");
  g_callback = Napi::Persistent(info[0].As<Napi::Function>());
  if (g_async_context == nullptr) g_async_context = new Napi::AsyncContext(env, "pidone:signals");
  if (g_poll == nullptr) {
    uv_loop_t* loop = nullptr;
    if (napi_get_uv_event_loop(env, &loop) != napi_ok) throw Napi::Error::New(env, "no event loop");
    g_poll = new uv_poll_t;
    int rc = uv_poll_init(loop, g_poll, g_pipe[0]);
    if (rc != 0) {
      delete g_poll;
      g_poll = nullptr;
      throw_errno(env, -rc, "uv_poll_init");
    }
    rc = uv_poll_start(g_poll, UV_READABLE, on_readable);
    if (rc != 0) {
      close_poll();
      throw_errno(env, -rc, "uv_poll_start");
    }
  }
  return env.Undefined();
}

// UnwatchSignals(): stop watching; the handlers stay installed and keep counting.
Napi::Value UnwatchSignals(const Napi::CallbackInfo& info) {
  close_poll();
  g_callback.Reset();
  return info.Env().Undefined();
}

// DereferenceNull(): a real SIGSEGV in pidone, for its own tests (PIDONE_FAULT=segv):
// a crash must stay a crash. The pointer is read through a volatile so that the
// compiler cannot see it is null and emit a trap instruction (SIGILL) instead.
Napi::Value DereferenceNull(const Napi::CallbackInfo& info) {
  static volatile uintptr_t null_address = 0;
  volatile int* target = reinterpret_cast<volatile int*>(null_address);
  *target = 1;
  return info.Env().Undefined();
}

}  // namespace

void init_signals(Napi::Env env, Napi::Object exports) {
  exports.Set("installSignalHandlers", Napi::Function::New(env, InstallSignalHandlers));
  exports.Set("restoreSignalHandlers", Napi::Function::New(env, RestoreSignalHandlers));
  exports.Set("takeSignals", Napi::Function::New(env, TakeSignals));
  exports.Set("watchSignals", Napi::Function::New(env, WatchSignals));
  exports.Set("unwatchSignals", Napi::Function::New(env, UnwatchSignals));
  exports.Set("dereferenceNull", Napi::Function::New(env, DereferenceNull));
  exports.Set("SIGRTMIN", Napi::Number::New(env, SIGRTMIN));
  exports.Set("SIGRTMAX", Napi::Number::New(env, SIGRTMAX));
}

}  // namespace pidone
