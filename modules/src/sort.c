/* sort: sorts the lines of stdin: bytewise, or numerically with -n; -r reverses, -u dedups. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "webmk.h"

WEBMK_MANIFEST("{\"name\":\"sort\",\"version\":\"1.0.0\","
               "\"description\":\"Sorts the lines of stdin: sort [-n] [-r] [-u]\"}");

struct line {
  char *text;
  size_t len;
  double num;
  size_t index; /* input order */
};

static int numeric, reverse, unique;

/* The number a line starts with, as sort -n reads it: blanks, a sign, digits, a fraction; else 0. */
static double leading_number(const char *s) {
  while (*s == ' ' || *s == '\t')
    s++;
  double sign = 1, v = 0, scale = 1;
  if (*s == '-') {
    sign = -1;
    s++;
  }
  for (; *s >= '0' && *s <= '9'; s++)
    v = v * 10 + (*s - '0');
  if (*s == '.')
    for (s++; *s >= '0' && *s <= '9'; s++)
      v += (*s - '0') * (scale /= 10);
  return sign * v;
}

/* Byte order, as sort does in the C locale. */
static int bytes_cmp(const struct line *a, const struct line *b) {
  int c = memcmp(a->text, b->text, a->len < b->len ? a->len : b->len);
  return c != 0 ? c : (a->len > b->len) - (a->len < b->len);
}

/* The sort key alone: what -u calls equal. */
static int key_cmp(const struct line *a, const struct line *b) {
  return numeric ? (a->num > b->num) - (a->num < b->num) : bytes_cmp(a, b);
}

/*
 * Equal keys fall back to byte order (reversed too with -r), as in coreutils; with -u they keep
 * their input order instead, so the first of equal lines is the one printed.
 */
static int cmp(const void *pa, const void *pb) {
  const struct line *a = pa, *b = pb;
  int c = key_cmp(a, b);
  if (c == 0 && unique)
    return (a->index > b->index) - (a->index < b->index);
  if (c == 0)
    c = bytes_cmp(a, b);
  return reverse ? -c : c;
}

/* A failed write ends the program as SIGPIPE would: exit 1, silently when the reader left. */
static void write_failed(void) {
  if (errno != EPIPE)
    fprintf(stderr, "sort: write error: %s\n", strerror(errno));
  _Exit(1);
}

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    if (argv[i][0] != '-' || argv[i][1] == '\0') {
      fprintf(stderr, "usage: sort [-n] [-r] [-u] < input\n");
      return 2;
    }
    for (const char *f = argv[i] + 1; *f; f++) {
      if (*f == 'n') numeric = 1;
      else if (*f == 'r') reverse = 1;
      else if (*f == 'u') unique = 1;
      else {
        fprintf(stderr, "sort: invalid option -- '%c'\nusage: sort [-n] [-r] [-u] < input\n", *f);
        return 2;
      }
    }
  }

  struct line *lines = NULL;
  size_t count = 0, cap = 0;
  char *text = NULL;
  size_t text_cap = 0;
  ssize_t n;
  while ((n = getline(&text, &text_cap, stdin)) >= 0) {
    if (count == cap) {
      cap = cap ? cap * 2 : 1024;
      lines = realloc(lines, cap * sizeof *lines);
      if (lines == NULL) {
        fprintf(stderr, "sort: out of memory\n");
        return 2;
      }
    }
    size_t len = n > 0 && text[n - 1] == '\n' ? (size_t)n - 1 : (size_t)n;
    /* getline's buffer becomes the line; the next call allocates a new one. */
    lines[count] = (struct line){text, len, numeric ? leading_number(text) : 0, count};
    count++;
    text = NULL;
    text_cap = 0;
  }
  if (ferror(stdin)) {
    fprintf(stderr, "sort: read error: %s\n", strerror(errno));
    return 2;
  }

  qsort(lines, count, sizeof *lines, cmp);
  for (size_t i = 0; i < count; i++) {
    if (unique && i > 0 && key_cmp(&lines[i - 1], &lines[i]) == 0)
      continue;
    if (fwrite(lines[i].text, 1, lines[i].len, stdout) != lines[i].len || putchar('\n') == EOF)
      write_failed();
  }
  if (fflush(stdout) != 0)
    write_failed();
  return 0;
}
