/* spawner: starts a module through the kernel call webmk_kernel_spawn and prints its pid. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "webmk.h"

WEBMK_MANIFEST("{\"name\":\"spawner\",\"version\":\"1.0.0\","
               "\"description\":\"Starts another module and prints its pid: spawner NAME [ARGS...]\","
               "\"permissions\":{\"kernel\":[\"spawn\"]}}");

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: spawner NAME [ARGS...]\n");
    return 2;
  }
  /* The child's arguments go as one block of NUL-terminated strings. */
  size_t len = 0;
  for (int i = 2; i < argc; i++)
    len += strlen(argv[i]) + 1;
  char *args = malloc(len + 1);
  if (args == NULL) {
    fprintf(stderr, "spawner: out of memory\n");
    return 1;
  }
  size_t at = 0;
  for (int i = 2; i < argc; i++) {
    size_t n = strlen(argv[i]) + 1;
    memcpy(args + at, argv[i], n);
    at += n;
  }

  int32_t pid = webmk_kernel_spawn(argv[1], strlen(argv[1]), args, (uint32_t)len);
  if (pid < 0) {
    if (pid == -ENOENT)
      fprintf(stderr, "spawner: %s: no such module\n", argv[1]);
    else
      fprintf(stderr, "spawner: %s: %s%s\n", argv[1], strerror(-pid),
              pid == -EACCES ? " (grant kernel:spawn)" : "");
    return 1;
  }
  printf("started %s as pid %d\n", argv[1], pid);
  return 0;
}
