// An exec plan: everything a forked child needs to become the command, prepared
// before fork() so that the child makes only async-signal-safe calls (signal-safety(7)).
#pragma once
#include <napi.h>

#include <string>
#include <vector>

namespace pidone {

// The steps of a spawn that can fail, each with the system call named in the error
// and whether it belongs to the set-up of new namespaces (a refusal there is the
// kernel's or the container's policy, not the command's fault).
enum Stage : int {
  kExec = 0,
  kSetsid,
  kSetpgid,
  kMountPrivate,
  kMountProc,
  kUserNsSync,
  kFork,   // fork(2) of the child, or of the first child inside a new PID namespace
  kClone,  // clone(2) with namespace flags, in the parent
  kStageCount,
};
struct StageInfo {
  Stage stage;
  const char* syscall;
  bool namespace_setup;
};
inline constexpr StageInfo kStages[] = {
    {kExec, "execve", false},
    {kSetsid, "setsid", false},
    {kSetpgid, "setpgid", false},
    {kMountPrivate, "mount(MS_PRIVATE)", true},
    {kMountProc, "mount(proc)", true},
    {kUserNsSync, "userns", true},
    {kFork, "fork", false},
    {kClone, "clone", true},
};
constexpr bool stages_in_enum_order() {
  for (int i = 0; i < kStageCount; i++) {
    if (kStages[i].stage != i) return false;
  }
  return true;
}
static_assert(sizeof kStages / sizeof kStages[0] == kStageCount, "kStages needs one entry per Stage");
static_assert(stages_in_enum_order(), "kStages must list the stages in enum order");

// What a child writes to its error pipe when it cannot become the command.
struct ChildFailure {
  int err;
  int stage;
};
// The entry for a stage number read from a child; null for a number that is none.
const StageInfo* stage_info(int stage);

struct ExecPlan {
  std::vector<std::string> candidates;  // paths to try with execve, in order
  std::vector<std::string> argv_storage;
  std::vector<std::string> env_storage;
  std::vector<char*> argv;
  std::vector<char*> envp;
  // execvp(3) runs a file without a recognised header (ENOEXEC) with /bin/sh:
  // {"/bin/sh", <path>, argv[1], ...}; slot 1 is filled in at exec time.
  std::vector<char*> sh_argv;
  std::vector<int> keep_fds;  // sorted, >= 3: inherited by the command
  bool setsid = false;
  int tty_fd = -1;
  int env_pid_index = -1;  // envp entry to overwrite with "<name>=<own pid>"
  std::string env_pid_name;
  std::vector<char> env_pid_buffer;

  // Reads (candidates, argv, envp, options) from JS; throws TypeError on bad shapes.
  static ExecPlan from_js(Napi::Env env, Napi::Value candidates, Napi::Value argv, Napi::Value envp,
                          Napi::Object options);
  // Adds "NAME=value" to the environment and returns nothing; call before finalize().
  void add_env(const std::string& entry);
  // Adds fds the command keeps; call before finalize().
  void keep(int fd);
  // Builds the argv/envp pointer arrays. No allocation may happen after this.
  void finalize();
};

// The RLIMIT_NOFILE soft limit every child gets back (set by setChildNofileLimit): Node
// raises its soft limit to the hard one as it starts, the launcher (bin/pidone) may have
// raised it before, and the child must start with the limits pidone was started with.
// -1: leave it.
extern long g_child_nofile_soft;

// In the child: the process group or session, the terminal, default signal
// dispositions, the fd set. Signals stay blocked. On failure writes a ChildFailure to
// err_fd and _exits.
void prepare_child(ExecPlan& plan, int err_fd);
// In the child: empty the signal mask and exec, following execvp(3)'s search rules.
// Never returns.
[[noreturn]] void exec_child(ExecPlan& plan, int err_fd);
[[noreturn]] void child_fail(int err_fd, int err, Stage stage);

}  // namespace pidone
