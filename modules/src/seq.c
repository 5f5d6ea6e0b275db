/* seq: prints integers from FIRST to LAST by STEP, one per line, like coreutils seq. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "webmk.h"

WEBMK_MANIFEST("{\"name\":\"seq\",\"version\":\"1.0.0\","
               "\"description\":\"Prints a sequence of integers: seq [FIRST [STEP]] LAST\"}");

/* A failed write ends the program as SIGPIPE would: exit 1, silently when the reader left. */
static void write_failed(void) {
  if (errno != EPIPE)
    fprintf(stderr, "seq: write error: %s\n", strerror(errno));
  _Exit(1);
}

static int parse(const char *s, long long *out) {
  char *end;
  errno = 0;
  *out = strtoll(s, &end, 10);
  if (*s == '\0' || *end != '\0' || errno != 0) {
    fprintf(stderr, "seq: invalid integer argument: '%s'\n", s);
    return -1;
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 2 || argc > 4) {
    fprintf(stderr, argc < 2 ? "seq: missing operand\n" : "seq: extra operand '%s'\n", argv[argc > 4 ? 4 : 0]);
    fprintf(stderr, "usage: seq LAST | seq FIRST LAST | seq FIRST STEP LAST\n");
    return 1;
  }
  long long first = 1, step = 1, last;
  if (parse(argv[argc - 1], &last) < 0)
    return 1;
  if (argc >= 3 && parse(argv[1], &first) < 0)
    return 1;
  if (argc == 4 && parse(argv[2], &step) < 0)
    return 1;
  if (step == 0) {
    fprintf(stderr, "seq: invalid Zero increment value: '%s'\n", argv[2]);
    return 1;
  }

  for (long long x = first; step > 0 ? x <= last : x >= last;) {
    if (printf("%lld\n", x) < 0)
      write_failed();
    if (__builtin_add_overflow(x, step, &x))
      break;
  }
  if (fflush(stdout) != 0)
    write_failed();
  return 0;
}
