/* hello: prints a greeting, its arguments and its environment. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "webmk.h"

WEBMK_MANIFEST("{\"name\":\"hello\",\"version\":\"1.0.0\","
               "\"description\":\"Prints hello, world, its arguments and its environment\"}");

extern char **environ;

int main(int argc, char **argv) {
  printf("hello, world\n");
  for (int i = 0; i < argc; i++)
    printf("argv[%d]=%s\n", i, argv[i]);
  for (char **e = environ; *e; e++)
    printf("env %s\n", *e);

  if (argc >= 3 && strcmp(argv[1], "--exit") == 0) {
    char *end;
    long code = strtol(argv[2], &end, 10);
    if (*argv[2] != '\0' && *end == '\0')
      return (int)code;
  }
  return 0;
}
