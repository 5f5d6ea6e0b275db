/* logger: a sink. Prints every message on the topics matching a pattern as "TOPIC: DATA". */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "webmk.h"

WEBMK_MANIFEST("{\"name\":\"logger\",\"version\":\"1.0.0\","
               "\"description\":\"Sink: prints the messages on a topic pattern: logger [PATTERN [COUNT]]\","
               "\"permissions\":{\"subscribe\":[\"*\"]}}");

static char msg[WEBMK_MAX_MESSAGE];

/* Prints a message as text: one trailing newline dropped, other control bytes as \xNN. */
static void print_data(const char *p, int32_t len) {
  if (len > 0 && p[len - 1] == '\n')
    len--;
  for (int32_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)p[i];
    if (c == '\t' || (c >= 0x20 && c != 0x7f))
      putchar(c);
    else
      printf("\\x%02x", c);
  }
  putchar('\n');
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  const char *pattern = argc > 1 ? argv[1] : "sensors/*";
  long count = argc > 2 ? strtol(argv[2], NULL, 10) : 0; /* 0: forever */

  int sub = webmk_subscribe(pattern, strlen(pattern));
  if (sub < 0) {
    fprintf(stderr, "logger: cannot subscribe to %s: %s%s\n", pattern, strerror(-sub),
            sub == -EACCES ? " (grant subscribe:*)" : "");
    return 1;
  }
  printf("logger: listening on %s\n", pattern);

  int32_t dropped = 0;
  char topic[WEBMK_MAX_TOPIC + 1];
  for (long n = 0; count == 0 || n < count; n++) {
    int32_t len = webmk_recv(sub, msg, sizeof msg, -1);
    if (len < 0) {
      fprintf(stderr, "logger: receive failed: %s\n", strerror(-len));
      return 1;
    }
    /* Messages lost to a full inbox were newer than what is queued: report them as a gap. */
    int32_t d = webmk_dropped(sub);
    if (d > dropped) {
      printf("(%d dropped)\n", d - dropped);
      dropped = d;
    }
    int32_t tl = webmk_recv_topic(sub, topic, sizeof topic - 1);
    topic[tl < 0 ? 0 : tl > WEBMK_MAX_TOPIC ? WEBMK_MAX_TOPIC : tl] = '\0';
    printf("%s: ", topic);
    print_data(msg, len);
  }
  return 0;
}
