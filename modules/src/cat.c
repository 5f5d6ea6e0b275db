/* cat: copies stdin, or the files named as arguments, to stdout. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "webmk.h"

WEBMK_MANIFEST("{\"name\":\"cat\",\"version\":\"1.0.0\","
               "\"description\":\"Copies stdin or the named files to stdout\"}");

static char buf[65536];

/* Writes all n bytes, retrying short writes. Returns 0 or -1 with errno set. */
static int write_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR)
        continue;
      return -1;
    }
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

/* Copies fd to stdout until EOF. Returns 0, or -1 with errno set. */
static int copy(int fd) {
  for (;;) {
    ssize_t r = read(fd, buf, sizeof buf);
    if (r == 0)
      return 0;
    if (r < 0) {
      if (errno == EINTR)
        continue;
      return -1;
    }
    if (write_all(1, buf, (size_t)r) < 0)
      return -1;
  }
}

int main(int argc, char **argv) {
  if (argc < 2) {
    if (copy(0) < 0) {
      fprintf(stderr, "cat: %s\n", strerror(errno));
      return 1;
    }
    return 0;
  }

  int status = 0;
  for (int i = 1; i < argc; i++) {
    int fd = open(argv[i], O_RDONLY);
    if (fd < 0 || copy(fd) < 0) {
      fprintf(stderr, "cat: %s: %s\n", argv[i], strerror(errno));
      status = 1;
    }
    if (fd >= 0)
      close(fd);
  }
  return status;
}
