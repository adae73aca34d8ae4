/* Figures 1 and 2: launch commands interleaved and time them.
 *
 *   launch REPS CMD1 ARGS... ';' CMD2 ARGS... ';' ...
 *
 * For each repetition, runs every command once, in an order rotated by one each
 * repetition. Each run: t0 = CLOCK_MONOTONIC just before vfork, the command's stdout
 * is a pipe; t1 = when waitpid returns. If the command (or its child, bench/c/stamp)
 * wrote a CLOCK_MONOTONIC timestamp to stdout, exec = that - t0.
 * Prints "index wall_ns exec_ns exit_status" per run (exec_ns -1 when nothing was written). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static uint64_t now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int main(int argc, char **argv) {
  if (argc < 3) { fprintf(stderr, "usage: launch REPS CMD... [';' CMD...]\n"); return 2; }
  int reps = atoi(argv[1]);
  char **cmds[64];
  int n = 0;
  cmds[n++] = &argv[2];
  for (int i = 2; i < argc; i++) {
    if (strcmp(argv[i], ";") == 0) { argv[i] = NULL; if (i + 1 < argc) cmds[n++] = &argv[i + 1]; }
  }
  for (int r = 0; r < reps; r++) {
    for (int k = 0; k < n; k++) {
      int idx = (k + r) % n;
      int p[2];
      if (pipe2(p, O_CLOEXEC) != 0) { perror("pipe"); return 1; }
      posix_spawn_file_actions_t fa;
      posix_spawn_file_actions_init(&fa);
      posix_spawn_file_actions_adddup2(&fa, p[1], 1);
      pid_t pid;
      uint64_t t0 = now();
      int rc = posix_spawnp(&pid, cmds[idx][0], &fa, NULL, cmds[idx], environ);
      if (rc != 0) { fprintf(stderr, "spawn %s: %s\n", cmds[idx][0], strerror(rc)); return 1; }
      close(p[1]);
      int status = 0;
      while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
      uint64_t t1 = now();
      char buf[64];
      ssize_t len = 0, got;
      while ((got = read(p[0], buf + len, sizeof buf - 1 - len)) > 0) len += got;
      close(p[0]);
      posix_spawn_file_actions_destroy(&fa);
      buf[len] = 0;
      long long exec_ns = -1;
      if (len > 0) exec_ns = (long long)(strtoull(buf, NULL, 10) - t0);
      printf("%d %llu %lld %d\n", idx, (unsigned long long)(t1 - t0), exec_ns, status);
      fflush(stdout);
    }
  }
  return 0;
}
