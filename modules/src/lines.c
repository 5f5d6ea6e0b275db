/* lines: prints N numbered lines through stdio, to measure stdout throughput. */
#include <stdio.h>
#include <stdlib.h>

#include "webmk.h"

WEBMK_MANIFEST("{\"name\":\"lines\",\"version\":\"1.0.0\","
               "\"description\":\"Prints N lines (default 200000) to measure stdout speed\"}");

int main(int argc, char **argv) {
  long n = argc > 1 ? strtol(argv[1], NULL, 10) : 200000;
  for (long i = 1; i <= n; i++)
    printf("line %ld\n", i);
  return 0;
}
