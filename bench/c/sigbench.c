/* Figure 4: signal forwarding latency, every init side by side.
 *
 *   sigbench N BATCH CMD1... ';' CMD2... ';' ...
 *
 * Starts every command (an init running bench/c/sigchild) with its stdout on a pipe and
 * waits for the child's "ready". Then, in rounds, sends BATCH SIGUSR1s to each init in
 * turn (order rotated each round), one at a time: t0 = CLOCK_MONOTONIC, kill(init),
 * wait for the child's handler to write its timestamp t1; latency = t1 - t0. One
 * signal each before that is not counted (start-up). Stops at
 * N per init, SIGTERMs every init and reaps it.
 * Prints one line per command: "index lost lat_ns lat_ns ..." */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
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

/* Read exactly 8 bytes within timeout_ms; 0 on success. */
static int read8(int fd, uint64_t *out, int timeout_ms) {
  size_t got = 0;
  char *p = (char *)out;
  while (got < 8) {
    struct pollfd pfd = {fd, POLLIN, 0};
    int rc = poll(&pfd, 1, timeout_ms);
    if (rc < 0 && errno == EINTR) continue;
    if (rc <= 0) return -1;
    ssize_t r = read(fd, p + got, 8 - got);
    if (r <= 0) return -1;
    got += (size_t)r;
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 4) { fprintf(stderr, "usage: sigbench N BATCH CMD... [';' CMD...]\n"); return 2; }
  long total = atol(argv[1]), batch = atol(argv[2]);
  char **cmds[64];
  int n = 0;
  cmds[n++] = &argv[3];
  for (int i = 3; i < argc; i++) {
    if (strcmp(argv[i], ";") == 0) { argv[i] = NULL; if (i + 1 < argc) cmds[n++] = &argv[i + 1]; }
  }
  pid_t pids[64];
  int fds[64];
  long done[64] = {0}, lost[64] = {0};
  uint64_t *lat[64];
  for (int k = 0; k < n; k++) {
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0) { perror("pipe"); return 1; }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, p[1], 1);
    int rc = posix_spawnp(&pids[k], cmds[k][0], &fa, NULL, cmds[k], environ);
    if (rc != 0) { fprintf(stderr, "spawn %s: %s\n", cmds[k][0], strerror(rc)); return 1; }
    close(p[1]);
    fds[k] = p[0];
    lat[k] = calloc((size_t)total, sizeof(uint64_t));
    uint64_t ready;
    if (read8(fds[k], &ready, 10000) != 0) { fprintf(stderr, "%s: child never ready\n", cmds[k][0]); return 1; }
  }
  /* Let every init finish its start-up (pidone spawns before it has loaded all of
   * itself), then one signal each that is not counted: it waits until the init forwards. */
  usleep(200000);
  for (int k = 0; k < n; k++) {
    uint64_t t;
    kill(pids[k], SIGUSR1);
    if (read8(fds[k], &t, 30000) != 0) { fprintf(stderr, "%s: warm-up signal never arrived\n", cmds[k][0]); return 1; }
  }
  for (long round = 0; ; round++) {
    int busy = 0;
    for (int j = 0; j < n; j++) {
      int k = (int)((j + round) % n);
      for (long b = 0; b < batch && done[k] < total; b++) {
        busy = 1;
        uint64_t t0 = now(), t1 = 0;
        kill(pids[k], SIGUSR1);
        if (read8(fds[k], &t1, 2000) != 0) { lost[k]++; done[k]++; continue; }
        lat[k][done[k]++] = t1 - t0;
      }
    }
    if (!busy) break;
  }
  for (int k = 0; k < n; k++) {
    kill(pids[k], SIGTERM);
    int status;
    waitpid(pids[k], &status, 0);
    printf("%d %ld", k, lost[k]);
    for (long i = 0; i < total; i++) if (lat[k][i]) printf(" %llu", (unsigned long long)lat[k][i]);
    printf("\n");
  }
  return 0;
}
