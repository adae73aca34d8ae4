/* Figure 4: the child of the init under test. Its SIGUSR1 handler writes
 * CLOCK_MONOTONIC (8 bytes, native order) to fd 1; it starts by writing 8 zero bytes
 * ("ready") once the handler is in. SIGTERM ends it (default action). */
#include <signal.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

static void on_usr1(int sig) {
  (void)sig;
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  uint64_t ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
  (void)!write(1, &ns, sizeof ns);
}

int main(void) {
  struct sigaction sa = {0};
  sa.sa_handler = on_usr1;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGUSR1, &sa, NULL);
  uint64_t zero = 0;
  (void)!write(1, &zero, sizeof zero);
  for (;;) pause();
}
