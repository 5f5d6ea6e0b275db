/* wc: counts lines, words and bytes of stdin or of the named files. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "webmk.h"

WEBMK_MANIFEST("{\"name\":\"wc\",\"version\":\"1.0.0\","
               "\"description\":\"Counts lines, words and bytes like coreutils wc\"}");

struct counts {
  long long lines, words, bytes;
};

static char buf[65536];

/* Adds fd's counts to c. Returns 0, or -1 with errno set. */
static int count(int fd, struct counts *c) {
  int in_word = 0;
  for (;;) {
    ssize_t r = read(fd, buf, sizeof buf);
    if (r == 0)
      return 0;
    if (r < 0) {
      if (errno == EINTR)
        continue;
      return -1;
    }
    c->bytes += r;
    for (ssize_t i = 0; i < r; i++) {
      unsigned char ch = (unsigned char)buf[i];
      if (ch == '\n')
        c->lines++;
      if (isspace(ch)) {
        in_word = 0;
      } else if (!in_word) {
        in_word = 1;
        c->words++;
      }
    }
  }
}

static void print(const struct counts *c, const char *name) {
  printf("%7lld %7lld %7lld", c->lines, c->words, c->bytes);
  if (name)
    printf(" %s", name);
  printf("\n");
}

int main(int argc, char **argv) {
  if (argc < 2) {
    struct counts c = {0};
    if (count(0, &c) < 0) {
      fprintf(stderr, "wc: %s\n", strerror(errno));
      return 1;
    }
    print(&c, NULL);
    return 0;
  }

  struct counts total = {0};
  int status = 0;
  for (int i = 1; i < argc; i++) {
    struct counts c = {0};
    int fd = open(argv[i], O_RDONLY);
    if (fd < 0 || count(fd, &c) < 0) {
      fprintf(stderr, "wc: %s: %s\n", argv[i], strerror(errno));
      status = 1;
    } else {
      print(&c, argv[i]);
      total.lines += c.lines;
      total.words += c.words;
      total.bytes += c.bytes;
    }
    if (fd >= 0)
      close(fd);
  }
  if (argc > 2)
    print(&total, "total");
  return status;
}
