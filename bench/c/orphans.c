/* Figures 3 and 6: the child of the init under test, which is PID 1 of a fresh PID
 * namespace. Makes N double-forked orphans (each exits at once, so each becomes a
 * zombie of PID 1) and times until PID 1 has no child left but this one.
 *
 *   orphans N          run once, print "total_ns tail_ns" (tail: from the last fork to 0 zombies)
 *   orphans N wait     print "ready", then on each line read from stdin run one round
 *                      and print its result; exit at end of input (for figure 6's
 *                      memory readings between rounds). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static uint64_t now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Children of PID 1 other than us (zombies included: they stay on the list until reaped). */
static long others_of_init(pid_t self) {
  long count = 0;
  DIR *d = opendir("/proc/1/task");
  if (!d) return -1;
  struct dirent *e;
  char path[300], buf[1 << 16];
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.') continue;
    snprintf(path, sizeof path, "/proc/1/task/%s/children", e->d_name);
    FILE *f = fopen(path, "r");
    if (!f) continue;
    size_t len = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[len] = 0;
    for (char *tok = strtok(buf, " \n"); tok; tok = strtok(NULL, " \n")) {
      if (atoi(tok) != self) count++;
    }
  }
  closedir(d);
  return count;
}

static void round_(long n) {
  pid_t self = getpid();
  uint64_t t0 = now();
  for (long i = 0; i < n; i++) {
    pid_t pid = fork();
    if (pid < 0) { perror("fork"); exit(1); }
    if (pid == 0) {
      if (fork() < 0) _exit(1);
      _exit(0); /* both the intermediate and the grandchild end here */
    }
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {}
  }
  uint64_t t1 = now();
  struct timespec pause = {0, 100000};
  while (others_of_init(self) > 0) nanosleep(&pause, NULL);
  uint64_t t2 = now();
  printf("%llu %llu\n", (unsigned long long)(t2 - t0), (unsigned long long)(t2 - t1));
  fflush(stdout);
}

int main(int argc, char **argv) {
  if (argc < 2) { fprintf(stderr, "usage: orphans N [wait]\n"); return 2; }
  long n = atol(argv[1]);
  if (argc > 2 && strcmp(argv[2], "wait") == 0) {
    printf("ready\n");
    fflush(stdout);
    char line[64];
    while (fgets(line, sizeof line, stdin)) round_(n);
    return 0;
  }
  round_(n);
  return 0;
}
