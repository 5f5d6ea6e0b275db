/* grep: prints the lines of stdin that contain a fixed string (no regular expressions). */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "webmk.h"

WEBMK_MANIFEST("{\"name\":\"grep\",\"version\":\"1.0.0\","
               "\"description\":\"Prints the lines of stdin that contain a fixed string: "
               "grep [-v] [-c] [-i] [-n] PATTERN\"}");

static const char usage[] = "usage: grep [-v] [-c] [-i] [-n] PATTERN < input\n";

/* A failed write ends the program as SIGPIPE would: exit 1, silently when the reader left. */
static void write_failed(void) {
  if (errno != EPIPE)
    fprintf(stderr, "grep: write error: %s\n", strerror(errno));
  _Exit(1);
}

static void lower(char *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    s[i] = (char)tolower((unsigned char)s[i]);
}

int main(int argc, char **argv) {
  int invert = 0, count = 0, icase = 0, number = 0;
  int i = 1;
  for (; i < argc && argv[i][0] == '-' && argv[i][1] != '\0'; i++) {
    if (strcmp(argv[i], "--") == 0) {
      i++;
      break;
    }
    for (const char *f = argv[i] + 1; *f; f++) {
      switch (*f) {
      case 'v': invert = 1; break;
      case 'c': count = 1; break;
      case 'i': icase = 1; break;
      case 'n': number = 1; break;
      default:
        fprintf(stderr, "grep: invalid option -- '%c'\n%s", *f, usage);
        return 2;
      }
    }
  }
  if (argc - i != 1) {
    fputs(usage, stderr);
    return 2;
  }

  size_t plen = strlen(argv[i]);
  char *pattern = strdup(argv[i]);
  if (icase)
    lower(pattern, plen);

  char *line = NULL, *folded = NULL;
  size_t cap = 0, folded_cap = 0;
  long long selected = 0, lineno = 0;
  ssize_t n;
  while ((n = getline(&line, &cap, stdin)) >= 0) {
    lineno++;
    const char *hay = line;
    if (icase) {
      if (folded_cap < cap) {
        folded_cap = cap;
        folded = realloc(folded, folded_cap);
      }
      memcpy(folded, line, (size_t)n);
      lower(folded, (size_t)n);
      hay = folded;
    }
    /* The newline is not part of the line: a pattern never matches across it. */
    size_t len = n > 0 && line[n - 1] == '\n' ? (size_t)n - 1 : (size_t)n;
    int match = memmem(hay, len, pattern, plen) != NULL;
    if (match == invert)
      continue;
    selected++;
    if (count)
      continue;
    if (number && printf("%lld:", lineno) < 0)
      write_failed();
    if (fwrite(line, 1, len, stdout) != len || putchar('\n') == EOF)
      write_failed();
  }
  if (ferror(stdin)) {
    fprintf(stderr, "grep: read error: %s\n", strerror(errno));
    return 2;
  }
  if (count && printf("%lld\n", selected) < 0)
    write_failed();
  if (fflush(stdout) != 0)
    write_failed();
  return selected > 0 ? 0 : 1;
}
