/* kv: reads and changes the key-value store's group "notes", and watches it.
 *   kv get KEY | kv set KEY VALUE | kv cas KEY OLD NEW | kv del KEY | kv keys
 *   kv watch [N]   prints the next N changes (default 1) as "group<TAB>key" lines */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "webmk.h"

WEBMK_MANIFEST("{\"name\":\"kv\",\"version\":\"1.0.0\","
               "\"description\":\"Reads, changes and watches the key-value group notes\","
               "\"permissions\":{\"kv\":[\"read:notes\",\"write:notes\"]}}");

#define GROUP "notes"
#define G GROUP, sizeof GROUP - 1

static char buf[64 * 1024];

static int fail(const char *what, int32_t r) {
  fprintf(stderr, "kv: %s: %s%s\n", what, strerror(-r), r == -EACCES ? " (grant kv:read:notes, kv:write:notes)" : "");
  return 1;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: kv get KEY | set KEY VALUE | cas KEY OLD NEW | del KEY | keys | watch [N]\n");
    return 2;
  }
  const char *cmd = argv[1];
  int32_t r;
  if (strcmp(cmd, "get") == 0 && argc == 3) {
    r = webmk_kv_get(G, argv[2], strlen(argv[2]), buf, sizeof buf);
    if (r < 0) return fail("get", r);
    fwrite(buf, 1, (size_t)r < sizeof buf ? (size_t)r : sizeof buf, stdout);
    putchar('\n');
  } else if (strcmp(cmd, "set") == 0 && argc == 4) {
    r = webmk_kv_set(G, argv[2], strlen(argv[2]), argv[3], strlen(argv[3]));
    if (r < 0) return fail("set", r);
  } else if (strcmp(cmd, "cas") == 0 && argc == 5) {
    /* "-" as the old value: only if absent. */
    int absent = strcmp(argv[3], "-") == 0;
    r = webmk_kv_cas(G, argv[2], strlen(argv[2]), argv[3], absent ? WEBMK_KV_ABSENT : strlen(argv[3]), argv[4], strlen(argv[4]));
    if (r == -EAGAIN) {
      printf("conflict\n");
      return 3;
    }
    if (r < 0) return fail("cas", r);
  } else if (strcmp(cmd, "del") == 0 && argc == 3) {
    r = webmk_kv_delete(G, argv[2], strlen(argv[2]));
    if (r < 0) return fail("del", r);
    printf("%s\n", r == 1 ? "deleted" : "absent");
  } else if (strcmp(cmd, "keys") == 0) {
    r = webmk_kv_keys(G, buf, sizeof buf);
    if (r < 0) return fail("keys", r);
    fwrite(buf, 1, (size_t)r < sizeof buf ? (size_t)r : sizeof buf, stdout);
  } else if (strcmp(cmd, "watch") == 0) {
    int want = argc > 2 ? atoi(argv[2]) : 1;
    r = webmk_kv_watch(G);
    if (r < 0) return fail("watch", r);
    /* Tells whoever waits for it that the watch is in place. */
    printf("watching\n");
    fflush(stdout);
    for (int seen = 0; seen < want;) {
      r = webmk_kv_next(-1, buf, sizeof buf);
      if (r < 0) return fail("next", r);
      fwrite(buf, 1, (size_t)r, stdout);
      fflush(stdout);
      for (int i = 0; i < r; i++) seen += buf[i] == '\n';
    }
  } else {
    fprintf(stderr, "kv: unknown command %s\n", cmd);
    return 2;
  }
  return 0;
}
