/* sleep: sleeps N milliseconds and reports how long it actually slept. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "webmk.h"

WEBMK_MANIFEST("{\"name\":\"sleep\",\"version\":\"1.0.0\","
               "\"description\":\"Sleeps N milliseconds (default 100) and reports the elapsed time\"}");

static long long now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

int main(int argc, char **argv) {
  long ms = argc > 1 ? strtol(argv[1], NULL, 10) : 100;
  if (ms < 0)
    ms = 0;
  struct timespec req = {ms / 1000, (ms % 1000) * 1000000L};

  long long start = now_ns();
  /* nanosleep is a WASI poll_oneoff with one clock subscription. */
  while (nanosleep(&req, &req) != 0 && errno == EINTR) {
  }
  long long elapsed_ms = (now_ns() - start) / 1000000LL;

  printf("slept %lld ms\n", elapsed_ms);
  return 0;
}
