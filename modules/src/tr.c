/* tr: translates or deletes bytes of stdin: tr SET1 SET2, tr -d SET1. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "webmk.h"

WEBMK_MANIFEST("{\"name\":\"tr\",\"version\":\"1.0.0\","
               "\"description\":\"Translates or deletes bytes of stdin: tr SET1 SET2, tr -d SET1\"}");

static const char usage[] = "usage: tr SET1 SET2 | tr -d SET1   (sets: chars, ranges a-z, \\n \\t \\\\)\n";
static unsigned char buf[65536];

/* Expands a set (ranges such as a-z and the escapes \n \t \\) into out; returns its length. */
static size_t expand(const char *s, unsigned char out[256 * 4]) {
  size_t n = 0;
  while (*s && n < 256 * 4 - 256) {
    unsigned char c = (unsigned char)*s++;
    if (c == '\\' && *s) {
      char e = *s++;
      c = e == 'n' ? '\n' : e == 't' ? '\t' : e == 'r' ? '\r' : (unsigned char)e;
    }
    if (*s == '-' && s[1] != '\0') {
      unsigned char hi = (unsigned char)s[1];
      s += 2;
      for (unsigned v = c; v <= hi; v++)
        out[n++] = (unsigned char)v;
    } else {
      out[n++] = c;
    }
  }
  return n;
}

int main(int argc, char **argv) {
  int del = argc == 3 && strcmp(argv[1], "-d") == 0;
  if (argc != 3) {
    fputs(usage, stderr);
    return 1;
  }
  unsigned char set1[256 * 4], set2[256 * 4];
  size_t n1 = expand(argv[del ? 2 : 1], set1);
  size_t n2 = del ? 0 : expand(argv[2], set2);
  if (!del && n2 == 0 && n1 > 0) {
    fprintf(stderr, "tr: SET2 must not be empty\n%s", usage);
    return 1;
  }

  /* map[b] is what byte b becomes, or -1 to delete it. A short SET2 repeats its last byte. */
  int map[256];
  for (int b = 0; b < 256; b++)
    map[b] = b;
  for (size_t i = 0; i < n1; i++)
    map[set1[i]] = del ? -1 : set2[i < n2 ? i : n2 - 1];

  for (;;) {
    ssize_t r = read(0, buf, sizeof buf);
    if (r == 0)
      return 0;
    if (r < 0) {
      if (errno == EINTR)
        continue;
      fprintf(stderr, "tr: read error: %s\n", strerror(errno));
      return 1;
    }
    size_t k = 0;
    for (ssize_t i = 0; i < r; i++)
      if (map[buf[i]] >= 0)
        buf[k++] = (unsigned char)map[buf[i]];
    for (size_t at = 0; at < k;) {
      ssize_t w = write(1, buf + at, k - at);
      if (w < 0) {
        if (errno == EINTR)
          continue;
        /* A failed write ends the program as SIGPIPE would: silently when the reader left. */
        if (errno != EPIPE)
          fprintf(stderr, "tr: write error: %s\n", strerror(errno));
        return 1;
      }
      at += (size_t)w;
    }
  }
}
