/* ps: prints the process table, as the kernel call webmk_kernel_ps reports it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "webmk.h"

WEBMK_MANIFEST("{\"name\":\"ps\",\"version\":\"1.0.0\","
               "\"description\":\"Lists the processes: pid, name and state\","
               "\"permissions\":{\"kernel\":[\"ps\"]}}");

int main(void) {
  /* The call returns the full length like snprintf: grow the buffer until the table fits. */
  uint32_t cap = 4096;
  char *text = NULL;
  int32_t len;
  for (;;) {
    text = realloc(text, cap);
    if (text == NULL) {
      fprintf(stderr, "ps: out of memory\n");
      return 1;
    }
    len = webmk_kernel_ps(text, cap);
    if (len < 0) {
      fprintf(stderr, "ps: %s%s\n", strerror(-len), len == -EACCES ? " (grant kernel:ps)" : "");
      return 1;
    }
    if ((uint32_t)len <= cap)
      break;
    cap = (uint32_t)len;
  }

  printf("%5s %-20s %s\n", "PID", "NAME", "STATE");
  /* Each line is "PID NAME STATE"; a module name has no spaces. */
  for (char *line = text, *end = text + len; line < end;) {
    char *nl = memchr(line, '\n', (size_t)(end - line));
    if (nl == NULL)
      nl = end;
    *nl = '\0';
    char name[256], state[32];
    int pid;
    if (sscanf(line, "%d %255s %31s", &pid, name, state) == 3)
      printf("%5d %-20s %s\n", pid, name, state);
    else if (*line != '\0')
      printf("%s\n", line);
    line = nl + 1;
  }
  return 0;
}
