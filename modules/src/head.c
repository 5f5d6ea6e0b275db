/* head: copies the first N lines of stdin to stdout, then exits without reading the rest. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "webmk.h"

WEBMK_MANIFEST("{\"name\":\"head\",\"version\":\"1.0.0\","
               "\"description\":\"Copies the first N lines of stdin (default 10): head [-n N]\"}");

static char buf[65536];

/* A failed write ends the program as SIGPIPE would: exit 1, silently when the reader left. */
static void write_all(const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(1, p, n);
    if (w < 0) {
      if (errno == EINTR)
        continue;
      if (errno != EPIPE)
        fprintf(stderr, "head: write error: %s\n", strerror(errno));
      _Exit(1);
    }
    p += w;
    n -= (size_t)w;
  }
}

static int parse_count(const char *s, long long *out) {
  char *end;
  errno = 0;
  *out = strtoll(s, &end, 10);
  if (*s == '\0' || *end != '\0' || errno != 0 || *out < 0) {
    fprintf(stderr, "head: invalid number of lines: '%s'\n", s);
    return -1;
  }
  return 0;
}

int main(int argc, char **argv) {
  long long left = 10;
  const char *n_arg = NULL;
  if (argc == 3 && strcmp(argv[1], "-n") == 0)
    n_arg = argv[2];
  else if (argc == 2 && strncmp(argv[1], "-n", 2) == 0)
    n_arg = argv[1] + 2;
  else if (argc == 2 && argv[1][0] == '-')
    n_arg = argv[1] + 1; /* the old form: head -5 */
  else if (argc != 1) {
    fprintf(stderr, "usage: head [-n N] < input\n");
    return 1;
  }
  if (n_arg != NULL && parse_count(n_arg, &left) < 0)
    return 1;

  /* Reads in chunks and writes up to the Nth newline; what follows it is never read. */
  while (left > 0) {
    ssize_t r = read(0, buf, sizeof buf);
    if (r == 0)
      break;
    if (r < 0) {
      if (errno == EINTR)
        continue;
      fprintf(stderr, "head: read error: %s\n", strerror(errno));
      return 1;
    }
    size_t end = 0;
    while (end < (size_t)r && left > 0) {
      char *nl = memchr(buf + end, '\n', (size_t)r - end);
      if (nl == NULL) {
        end = (size_t)r;
        break;
      }
      end = (size_t)(nl - buf) + 1;
      left--;
    }
    write_all(buf, end);
  }
  return 0;
}
