/*
 * pidone's native launcher: what the sh half of bin/pidone does, in the same order and
 * with the same contract with src/boot.ts (PIDONE_LAUNCHER, PIDONE_LAUNCHER_FDS,
 * PIDONE_SAVED_<name>), then execve(2) of Node on the JavaScript half of bin/pidone.
 *
 * Why a program and not the shell: a shell fails before its first line under a low
 * RLIMIT_NOFILE (dash moves the script's fd to 10 or above), imports the environment
 * in quadratic time, rewrites it (PWD, duplicates, entries without '=') and takes about
 * a millisecond before it can read its parent; and the kernel hands a `#!` script its
 * path, not the name it was run as. This program reads its parent first, passes the
 * environment on as the bytes it got, in one pass, and keeps argv[0] as typed
 * (docs/decisions.md, "The native launcher").
 *
 * Linked statically where the toolchain can (binding.gyp, native/static-flag.sh): a
 * dynamically linked program needs an fd for libc before main(), which a soft limit of
 * 3 with fds 0-2 open does not leave (the loader fails, exit 127); static, it also
 * skips the loader's few hundred microseconds before the parent is read, and runs on
 * any libc of its architecture. It allocates, but never frees: it ends in execve or
 * exit.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/* Exit status for pidone's own set-up failures (src/exit-status.ts, EXIT_SETUP). */
#define EXIT_SETUP 1

/*
 * The signals noted before Node runs: the sh half's trap list (the same numbers, and
 * the JavaScript half installs the addon's handlers for these first). Not noted:
 * SIGCHLD (pidone reaps anyway), SIGPIPE (pidone drops one it sends itself, which a
 * replay would be), and the faults SIGILL, SIGTRAP, SIGABRT, SIGBUS, SIGFPE, SIGSEGV,
 * SIGSYS (a handler that returns from a real fault would loop).
 */
static const int kNotedLow[] = {1, 2, 3, 10, 12, 14, 15, 16, 18, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30};
#define NOTED_RT_FIRST 34
#define NOTED_RT_LAST 64

/* Signals in the order they came (a repeated one counts again, as the sh half's trap does). */
#define MAX_NOTED 512
static volatile sig_atomic_t noted[MAX_NOTED];
static volatile sig_atomic_t noted_count;

static void note_signal(int sig) {
  /* The handler runs with every noted signal blocked (sa_mask), so no two interleave. */
  int n = noted_count;
  if (n < MAX_NOTED) {
    noted[n] = sig;
    noted_count = n + 1;
  }
}

static void noted_set(sigset_t *set) {
  sigemptyset(set);
  for (size_t i = 0; i < sizeof kNotedLow / sizeof kNotedLow[0]; i++) sigaddset(set, kNotedLow[i]);
  for (int s = NOTED_RT_FIRST; s <= NOTED_RT_LAST; s++) sigaddset(set, s);
}

/* ---- small helpers: everything below ends in execve or exit, so nothing is freed ---- */

static void write_all(int fd, const char *s, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, s, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return;
    }
    s += w;
    n -= (size_t)w;
  }
}

/* One "pidone: ..." line on stderr, then exit. vsnprintf needs no fd. */
static void fail(int code, const char *format, ...) {
  char line[4096];
  va_list ap;
  va_start(ap, format);
  int n = vsnprintf(line, sizeof line, format, ap);
  va_end(ap);
  if (n < 0) n = 0;
  if ((size_t)n >= sizeof line) n = sizeof line - 1;
  write_all(2, line, (size_t)n);
  _exit(code);
}

static void *must_alloc(size_t size) {
  void *p = malloc(size == 0 ? 1 : size);
  if (p == NULL) fail(EXIT_SETUP, "pidone: the launcher is out of memory\n");
  return p;
}

static char *concat(const char *a, const char *b, const char *c) {
  size_t la = strlen(a), lb = strlen(b), lc = strlen(c);
  char *s = must_alloc(la + lb + lc + 1);
  memcpy(s, a, la);
  memcpy(s + la, b, lb);
  memcpy(s + la + lb, c, lc + 1);
  return s;
}

/*
 * read(2) until `size` bytes arrived, EOF or an error, resuming after EINTR: the number
 * of bytes read, with *failed set when an error ended it.
 */
static size_t read_upto(int fd, char *buf, size_t size, int *failed) {
  size_t len = 0;
  *failed = 0;
  while (len < size) {
    ssize_t r = read(fd, buf + len, size - len);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) *failed = 1;
    if (r <= 0) break;
    len += (size_t)r;
  }
  return len;
}

/* Reads a small file whole (NUL-terminated); NULL when it cannot be read. */
static char *read_small_file(const char *path, size_t limit) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return NULL;
  char *buf = must_alloc(limit + 1);
  int failed;
  size_t len = read_upto(fd, buf, limit, &failed);
  close(fd);
  if (failed) return NULL;
  buf[len] = '\0';
  return buf;
}

/* The first line of a file, without its newline; NULL when the file cannot be read. */
static char *first_line(const char *path) {
  char *text = read_small_file(path, 256);
  if (text != NULL) text[strcspn(text, "\n")] = '\0';
  return text;
}

static int all_digits(const char *s) {
  if (s == NULL || *s == '\0') return 0;
  for (; *s; s++)
    if (*s < '0' || *s > '9') return 0;
  return 1;
}

static char *dirname_of(const char *path) {
  const char *slash = strrchr(path, '/');
  if (slash == NULL) return concat(".", "", "");
  size_t n = slash == path ? 1 : (size_t)(slash - path);
  char *d = must_alloc(n + 1);
  memcpy(d, path, n);
  d[n] = '\0';
  return d;
}

/* A growing string (the records for Node). */
struct text {
  char *s;
  size_t len, cap;
};

static void text_add(struct text *t, const char *s, size_t n) {
  if (t->len + n + 1 > t->cap) {
    size_t cap = t->cap == 0 ? 256 : t->cap;
    while (t->len + n + 1 > cap) cap *= 2;
    char *grown = must_alloc(cap);
    if (t->s != NULL) memcpy(grown, t->s, t->len);
    t->s = grown;
    t->cap = cap;
  }
  memcpy(t->s + t->len, s, n);
  t->len += n;
  t->s[t->len] = '\0';
}

static void text_str(struct text *t, const char *s) { text_add(t, s, strlen(s)); }

static void text_num(struct text *t, long long n) {
  char buf[32];
  text_add(t, buf, (size_t)snprintf(buf, sizeof buf, "%lld", n));
}

/* ---- RLIMIT_NOFILE ---- */

/*
 * The fds open now, fd_dir's own aside. Without /proc (not mounted, or too few fds
 * left to open it), each possible number is asked with fcntl(F_GETFD), which needs no
 * fd of its own.
 */
static int count_open_fds(void) {
  DIR *dir = opendir("/proc/self/fd");
  int count = 0;
  if (dir != NULL) {
    int own = dirfd(dir);
    struct dirent *e;
    while ((e = readdir(dir)) != NULL) {
      if (!all_digits(e->d_name) || atoi(e->d_name) == own) continue;
      count++;
    }
    closedir(dir);
    return count;
  }
  struct rlimit rl;
  int top = 65536;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_max != RLIM_INFINITY && rl.rlim_max < (rlim_t)top) top = (int)rl.rlim_max;
  if (top < 1024) top = 1024;
  for (int fd = 0; fd < top; fd++)
    if (fcntl(fd, F_GETFD) >= 0) count++;
  return count;
}

/* ---- inherited fds ---- */

/*
 * Node marks fds 0-16 close-on-exec as it starts, after which an fd pidone inherited
 * (say 7) cannot be told from one Node opened. Here every open fd that is not
 * close-on-exec was inherited (this program opens everything O_CLOEXEC, opendir(3)
 * included): "PID:3,7".
 */
static void record_inherited_fds(struct text *t, pid_t self) {
  text_num(t, self);
  text_str(t, ":");
  int first = 1;
  DIR *dir = opendir("/proc/self/fd");
  if (dir != NULL) {
    int own = dirfd(dir);
    /* /proc lists them in ascending order. */
    struct dirent *e;
    while ((e = readdir(dir)) != NULL) {
      if (!all_digits(e->d_name)) continue;
      int fd = atoi(e->d_name);
      if (fd <= 2 || fd == own) continue;
      int flags = fcntl(fd, F_GETFD);
      if (flags < 0 || (flags & FD_CLOEXEC)) continue;
      if (!first) text_str(t, ",");
      text_num(t, fd);
      first = 0;
    }
    closedir(dir);
    return;
  }
  /* No /proc: ask each number up to the hard limit (fds above the soft one may be open). */
  struct rlimit rl;
  int top = 65536;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_max != RLIM_INFINITY && rl.rlim_max < (rlim_t)top) top = (int)rl.rlim_max;
  if (top < 1024) top = 1024;
  for (int fd = 3; fd < top; fd++) {
    int flags = fcntl(fd, F_GETFD);
    if (flags < 0 || (flags & FD_CLOEXEC)) continue;
    if (!first) text_str(t, ",");
    text_num(t, fd);
    first = 0;
  }
}

/* ---- where pidone is ---- */

/*
 * This program's own path, symbolic links resolved: /proc/self/exe, or, where /proc is
 * not mounted, the path execve(2) was given (AT_EXECFN) resolved by realpath(3). npm's
 * bin links, /usr/local/bin/pidone in the image and the tini or docker-init links of
 * the compat modes all lead here.
 */
static char *own_path(void) {
  char buf[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n > 0) {
    buf[n] = '\0';
    return concat(buf, "", "");
  }
  const char *execfn = (const char *)getauxval(AT_EXECFN);
  if (execfn != NULL && realpath(execfn, buf) != NULL) return concat(buf, "", "");
  return NULL;
}

/*
 * The JavaScript half: bin/pidone.sh next to this program in an installed package or
 * the image (where this program is bin/pidone), or in the package this program was
 * built in (build/Release/pidone, prebuilds/<platform>-<arch>/pidone): its bin/pidone.sh
 * once installed, else its bin/pidone (a source checkout).
 */
static char *javascript_half(const char *self_dir) {
  const char *const candidates[] = {"/pidone.sh", "/../../bin/pidone.sh", "/../../bin/pidone"};
  char resolved[PATH_MAX];
  for (size_t i = 0; i < sizeof candidates / sizeof candidates[0]; i++) {
    char *path = concat(self_dir, candidates[i], "");
    if (access(path, R_OK) == 0 && realpath(path, resolved) != NULL) return concat(resolved, "", "");
  }
  return NULL;
}

/* ---- which Node ---- */

static int is_executable_file(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/* PIDONE_NODE (a path, or a name looked up in PATH), or node from PATH; NULL if none. */
static char *find_node(const char *pidone_node, const char *path) {
  const char *name = pidone_node != NULL && *pidone_node != '\0' ? pidone_node : "node";
  if (strchr(name, '/') != NULL) return concat(name, "", "");
  /* A shell's default PATH when the environment has none. */
  if (path == NULL) path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  const char *p = path;
  for (;;) {
    const char *end = strchr(p, ':');
    size_t n = end == NULL ? strlen(p) : (size_t)(end - p);
    char *dir = must_alloc(n + 1);
    memcpy(dir, p, n);
    dir[n] = '\0';
    char *candidate = concat(n == 0 ? "." : dir, "/", name);
    if (is_executable_file(candidate)) return candidate;
    if (end == NULL) return NULL;
    p = end + 1;
  }
}

/* ---- Node's flags ---- */

struct decision {
  char *flags; /* space-separated, may be empty */
  long threads;
};

/*
 * dist/node-flags, written by `npm run build` after it ran this very Node with those
 * flags (scripts/code-cache.mjs): the Node binary, the flags, Node's thread count, one
 * line each. Valid only for the same Node binary (same device and inode) and when the
 * record is newer than that binary (a Node replaced in place makes it stale).
 */
static int read_decision(const char *root, const char *node, struct decision *out) {
  char *file = concat(root, "/dist/node-flags", "");
  char *text = read_small_file(file, 8192);
  if (text == NULL) return 0;
  char *lines[3];
  char *p = text;
  for (int i = 0; i < 3; i++) {
    char *nl = strchr(p, '\n');
    if (nl == NULL) return 0; /* three whole lines, as three `read`s of the sh half */
    *nl = '\0';
    lines[i] = p;
    p = nl + 1;
  }
  struct stat node_st, built_st, file_st;
  if (stat(node, &node_st) != 0 || stat(lines[0], &built_st) != 0 || stat(file, &file_st) != 0) return 0;
  if (node_st.st_dev != built_st.st_dev || node_st.st_ino != built_st.st_ino) return 0;
  if (file_st.st_mtim.tv_sec < built_st.st_mtim.tv_sec ||
      (file_st.st_mtim.tv_sec == built_st.st_mtim.tv_sec && file_st.st_mtim.tv_nsec <= built_st.st_mtim.tv_nsec))
    return 0;
  out->flags = lines[1];
  out->threads = all_digits(lines[2]) && strlen(lines[2]) < 9 ? atol(lines[2]) : 4;
  return 1;
}

/*
 * Without a valid record: the flags this Node's version is documented to have, from
 * one `node --version`. Node 22.14 and 23.7 have --disable-sigusr1; before that, the
 * permission model (--experimental-permission from 20.12/21.6, --permission from
 * 22.13/23.5) keeps the inspector from starting (docs/security.md), with pidone's
 * files, fds and addon allowed. An unknown flag would make Node exit 9 before pidone
 * runs, so an unreadable version gets none.
 */
static void version_decision(const char *node, char **envp, struct decision *out) {
  out->threads = 4;
  out->flags = "";
  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) != 0) return;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipefd[1], 1);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  /* The child must not start with the noted signals blocked (see main). */
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
  char *argv[] = {(char *)node, "--version", NULL};
  pid_t pid;
  int rc = posix_spawn(&pid, node, &actions, &attr, argv, envp);
  close(pipefd[1]);
  char buf[64];
  size_t len = 0;
  if (rc == 0) {
    int failed; /* what came before an error is still read as the version */
    len = read_upto(pipefd[0], buf, sizeof buf - 1, &failed);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
    }
  }
  close(pipefd[0]);
  buf[len] = '\0';
  buf[strcspn(buf, "\n")] = '\0';
  const char *v = buf[0] == 'v' ? buf + 1 : buf;
  char *end;
  if (*v < '0' || *v > '9') return;
  long major = strtol(v, &end, 10);
  if (*end != '.' || end[1] < '0' || end[1] > '9') return;
  long minor = strtol(end + 1, &end, 10);
  if (*end != '.' && *end != '\0') return;
  const char *allow = " --allow-fs-read=* --allow-fs-write=* --allow-addons";
  if (major >= 24 || (major == 23 && minor >= 7) || (major == 22 && minor >= 14)) {
    out->flags = "--disable-sigusr1";
  } else if ((major == 23 && minor >= 5) || (major == 22 && minor >= 13)) {
    out->flags = concat("--permission", allow, "");
  } else if (major >= 22 || (major == 21 && minor >= 6) || (major == 20 && minor >= 12)) {
    out->flags = concat("--experimental-permission", allow, "");
  }
}

/* ---- the pids cgroup ---- */

/*
 * Node's threads are tasks of the pids cgroup too (pids.current counts threads). When
 * Node cannot create one of them it aborts, or waits forever for it. So check the room
 * the pids controller leaves in this cgroup and its ancestors (cgroup v1 pids, or v2).
 * In a container without a cgroup namespace, the path is the host's and the
 * container's own cgroup is mounted at the top: the walk gets there too.
 */
static void check_pids_room(long threads) {
  char *cgroups = read_small_file("/proc/self/cgroup", 65536);
  if (cgroups == NULL) return;
  const char *root = NULL;
  char *dir = NULL;
  for (char *line = strtok(cgroups, "\n"); line != NULL; line = strtok(NULL, "\n")) {
    char *c1 = strchr(line, ':');
    if (c1 == NULL) continue;
    char *c2 = strchr(c1 + 1, ':');
    if (c2 == NULL) continue;
    *c2 = '\0';
    char *controllers = concat(",", c1 + 1, ",");
    const char *path = c2 + 1;
    if (strstr(controllers, ",pids,") != NULL) {
      root = "/sys/fs/cgroup/pids";
      dir = concat(root, path, "");
      break;
    }
    if (strcmp(controllers, ",,") == 0 && access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0) {
      root = "/sys/fs/cgroup";
      dir = concat(root, path, "");
    }
  }
  if (dir == NULL) return;
  size_t n = strlen(dir);
  if (n > 0 && dir[n - 1] == '/') dir[n - 1] = '\0';
  while (*dir != '\0') {
    char *max = first_line(concat(dir, "/pids.max", ""));
    char *current = max != NULL ? first_line(concat(dir, "/pids.current", "")) : NULL;
    if (all_digits(max) && all_digits(current) && strlen(max) < 18 && strlen(current) < 18) {
      long long room = atoll(max) - atoll(current);
      if (room < threads - 1) {
        const char *shown = strncmp(dir, root, strlen(root)) == 0 ? dir + strlen(root) : dir;
        fail(EXIT_SETUP,
             "pidone: the pids limit of cgroup %s leaves room for %lld more tasks (pids.max %s, pids.current %s); Node needs %ld "
             "threads for pidone and the command one more task: raise pids.max (docker run --pids-limit)\n",
             shown, room, max, current, threads);
      }
    }
    if (strcmp(dir, root) == 0) break;
    char *slash = strrchr(dir, '/');
    if (slash == NULL) break;
    *slash = '\0';
  }
}

/* ---- the environment ---- */

/*
 * Node's start-up variables are meant for the user's Node program, not for the init
 * (NODE_STARTUP_VARS in src/environment.ts says what each one would do to pidone; the
 * lists are the same): each one is held aside as PIDONE_SAVED_<name>, in its place,
 * and the child gets it back unchanged.
 */
static const char *const kStartupVars[] = {
    "NODE_OPTIONS", "NODE_EXTRA_CA_CERTS", "NODE_V8_COVERAGE", "NODE_CHANNEL_FD", "NODE_CHANNEL_SERIALIZATION_MODE",
};
#define SAVED_PREFIX "PIDONE_SAVED_"

/* Does `entry` start with `name` followed by '=' (or end there when bare is allowed)? */
static int entry_named(const char *entry, const char *name, int bare) {
  size_t n = strlen(name);
  if (strncmp(entry, name, n) != 0) return 0;
  return entry[n] == '=' || (bare && entry[n] == '\0');
}

/* One of the variables this launcher writes for pidone alone (an inherited one is stale). */
static int launcher_variable(const char *entry) {
  if (entry[0] != 'P' || strncmp(entry, "PIDONE_", 7) != 0) return 0;
  if (entry_named(entry, "PIDONE_LAUNCHER", 1) || entry_named(entry, "PIDONE_LAUNCHER_FDS", 1)) return 1;
  if (strncmp(entry, SAVED_PREFIX, sizeof SAVED_PREFIX - 1) != 0) return 0;
  for (size_t i = 0; i < sizeof kStartupVars / sizeof kStartupVars[0]; i++)
    if (entry_named(entry + sizeof SAVED_PREFIX - 1, kStartupVars[i], 1)) return 1;
  return 0;
}

static int startup_variable(const char *entry) {
  if (entry[0] != 'N') return 0;
  for (size_t i = 0; i < sizeof kStartupVars / sizeof kStartupVars[0]; i++)
    if (entry_named(entry, kStartupVars[i], 0)) return 1;
  return 0;
}

/*
 * Node's environment: every entry as it came, in order, in one pass (duplicate names,
 * entries without '=' and with an empty name included: the child gets them all, as
 * bytes, src/environment.ts), with the start-up variables renamed in place, then the
 * two records. Room for those two is left at the end.
 */
static char **node_environment(char **envp, size_t *count) {
  size_t n = 0;
  while (envp[n] != NULL) n++;
  char **out = must_alloc((n + 3) * sizeof *out);
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    char *entry = envp[i];
    if (launcher_variable(entry)) continue;
    out[k++] = startup_variable(entry) ? concat(SAVED_PREFIX, entry, "") : entry;
  }
  out[k] = NULL;
  *count = k;
  return out;
}

static const char *env_value(char **envp, const char *name) {
  for (char **e = envp; *e != NULL; e++)
    if (entry_named(*e, name, 0)) return *e + strlen(name) + 1;
  return NULL;
}

int main(int argc, char **argv, char **envp) {
  /*
   * The parent, read at the first instruction: --pdeathsig compares it with getppid()
   * once PR_SET_PDEATHSIG is set, so a parent that dies while Node starts is noticed
   * (prctl(2) leaves that race to the caller).
   */
  pid_t ppid = getppid();
  /*
   * Signals that arrive before Node runs: noted here and raised again by pidone itself
   * once its handlers are in (src/boot.ts). The kernel resets caught signals to their
   * default at execve(2), and Node resets every disposition and the mask as it starts,
   * so nothing can be kept pending across the exec. SA_RESTART: the reads below go on.
   */
  sigset_t noted_signals;
  noted_set(&noted_signals);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = note_signal;
  sa.sa_mask = noted_signals;
  sa.sa_flags = SA_RESTART;
  for (size_t i = 0; i < sizeof kNotedLow / sizeof kNotedLow[0]; i++) sigaction(kNotedLow[i], &sa, NULL);
  for (int s = NOTED_RT_FIRST; s <= NOTED_RT_LAST; s++) sigaction(s, &sa, NULL);

  pid_t self = getpid();

  /*
   * pidone's own open files: Node's (its event loop, pipes, eventfds) and the addon's
   * (its signal pipe, the spawn's error pipe, a pidfd), 18 measured, above the fds open
   * now; 6 more for what pidone opens later (/proc while shutting down). Below that,
   * Node aborts, crashes or fails with EMFILE in ways that look like the child's. Where
   * the hard limit allows, raise the soft one for pidone alone (the child gets the soft
   * limit back, src/boot.ts); else say so and stop. Nothing here needs an fd before the
   * limit is known: getrlimit(2), and the soft limit raised to the hard one meanwhile
   * so that /proc can be read even at 3.
   */
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) rl.rlim_cur = rl.rlim_max = RLIM_INFINITY;
  const rlim_t soft = rl.rlim_cur, hard = rl.rlim_max;
  if (soft != RLIM_INFINITY && soft < hard) {
    struct rlimit wide = {hard, hard};
    if (setrlimit(RLIMIT_NOFILE, &wide) != 0) {
      /* A hard limit above fs.nr_open: as much as the kernel gives. */
      wide.rlim_cur = soft + 64 < hard ? soft + 64 : soft;
      setrlimit(RLIMIT_NOFILE, &wide);
    }
  }
  const long long needed = 24 + count_open_fds();
  if (soft != RLIM_INFINITY) {
    struct rlimit want = {soft, hard};
    if ((long long)soft < needed) {
      if (hard != RLIM_INFINITY && (long long)hard < needed)
        fail(EXIT_SETUP,
             "pidone: the open files limit (RLIMIT_NOFILE, ulimit -n) is %llu, hard limit %llu; pidone needs %lld (Node's own files "
             "and the fds open now): raise it (docker run --ulimit nofile=%lld)\n",
             (unsigned long long)soft, (unsigned long long)hard, needed, needed);
      want.rlim_cur = (rlim_t)needed;
    }
    /*
     * Node itself raises its soft limit to the hard one as it starts (PlatformInit); the
     * child gets the soft limit pidone was started with back in any case.
     */
    setrlimit(RLIMIT_NOFILE, &want);
  }

  struct text fds = {0};
  text_str(&fds, "PIDONE_LAUNCHER_FDS=");
  record_inherited_fds(&fds, self);

  char *self_path = own_path();
  char *script = self_path != NULL ? javascript_half(dirname_of(self_path)) : NULL;
  if (script == NULL)
    fail(EXIT_SETUP, "pidone: cannot find pidone's JavaScript (bin/pidone.sh next to %s, or bin/pidone of the package it was built in): reinstall pidone\n",
         self_path != NULL ? self_path : "this launcher (/proc/self/exe and AT_EXECFN unreadable)");
  char *root = dirname_of(dirname_of(script));

  size_t env_count;
  char **env = node_environment(envp, &env_count);
  env[env_count] = fds.s;
  env[env_count + 1] = NULL;

  /* Which Node, and the flags that keep SIGUSR1 from opening its inspector. */
  const char *pidone_node = env_value(envp, "PIDONE_NODE");
  char *node = find_node(pidone_node, env_value(envp, "PATH"));
  if (node == NULL)
    fail(EXIT_SETUP, "pidone: cannot find Node: no executable '%s' in PATH; put node in PATH or set PIDONE_NODE to its path\n",
         pidone_node != NULL && *pidone_node != '\0' ? pidone_node : "node");
  struct decision decision;
  if (!read_decision(root, node, &decision)) version_decision(node, env, &decision);

  check_pids_room(decision.threads);

  /*
   * From here to execve the noted signals are blocked, so none comes between the record
   * and the exec unseen: one pending now is noted too. One still pending at execve is
   * taken by Node with its default action as it unblocks (the same as one that comes
   * just after the exec, docs/security.md).
   */
  sigset_t previous;
  sigprocmask(SIG_BLOCK, &noted_signals, &previous);
  struct timespec zero = {0, 0};
  for (;;) {
    int sig = sigtimedwait(&noted_signals, NULL, &zero);
    if (sig <= 0) break;
    note_signal(sig);
  }

  /* PIDONE_LAUNCHER: what this launcher saw, for this pid only (src/boot.ts). */
  struct text record = {0};
  text_str(&record, "PIDONE_LAUNCHER=pid=");
  text_num(&record, self);
  text_str(&record, " ppid=");
  text_num(&record, ppid);
  text_str(&record, " nofile=");
  if (soft != RLIM_INFINITY) text_num(&record, (long long)soft);
  text_str(&record, " signals=");
  for (int i = 0; i < noted_count; i++) {
    if (i > 0) text_str(&record, ",");
    text_num(&record, noted[i]);
  }
  /* The name pidone was run as, as typed (tini and dumb-init print theirs). */
  text_str(&record, " argv0=");
  text_str(&record, argc > 0 && argv[0] != NULL ? argv[0] : "pidone");
  env[env_count + 1] = record.s;
  env[env_count + 2] = NULL;

  /*
   * Node's flags: the decision's (split on blanks), then --no-warnings (Node prints its
   * warnings through process.stderr, which the init never touches), --single-threaded-gc,
   * --no-opt and --v8-pool-size=1 (an init's small heap: fewer threads and arenas,
   * docs/performance.md), then the JavaScript half and pidone's own arguments.
   */
  size_t flag_words = 0;
  char *flags = concat(decision.flags, "", "");
  for (char *p = flags; *p;) {
    while (*p == ' ' || *p == '\t') p++;
    if (*p == '\0') break;
    flag_words++;
    while (*p && *p != ' ' && *p != '\t') p++;
  }
  char **node_argv = must_alloc((flag_words + 7 + (size_t)(argc > 0 ? argc : 1)) * sizeof *node_argv);
  size_t a = 0;
  node_argv[a++] = node;
  for (char *p = flags; *p;) {
    while (*p == ' ' || *p == '\t') *p++ = '\0';
    if (*p == '\0') break;
    node_argv[a++] = p;
    while (*p && *p != ' ' && *p != '\t') p++;
  }
  node_argv[a++] = "--no-warnings";
  node_argv[a++] = "--single-threaded-gc";
  node_argv[a++] = "--no-opt";
  node_argv[a++] = "--v8-pool-size=1";
  node_argv[a++] = script;
  for (int i = 1; i < argc; i++) node_argv[a++] = argv[i];
  node_argv[a] = NULL;

  execve(node, node_argv, env);
  int error = errno;
  sigprocmask(SIG_SETMASK, &previous, NULL);
  fail(EXIT_SETUP, "pidone: cannot run Node (%s): %s; set PIDONE_NODE to a working node\n", node, strerror(error));
  return EXIT_SETUP;
}
