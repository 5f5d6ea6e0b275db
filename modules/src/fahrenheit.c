/* fahrenheit: a function. Converts readings on sensors/temp from Celsius to Fahrenheit and
 * republishes them on sensors/temp-f. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "webmk.h"

WEBMK_MANIFEST("{\"name\":\"fahrenheit\",\"version\":\"1.0.0\","
               "\"description\":\"Function: converts sensors/temp from Celsius to Fahrenheit "
               "on sensors/temp-f: fahrenheit [COUNT]\","
               "\"permissions\":{\"subscribe\":[\"sensors/temp\"],\"publish\":[\"sensors/temp-f\"]}}");

static const char in_topic[] = "sensors/temp";
static const char out_topic[] = "sensors/temp-f";
static char msg[WEBMK_MAX_MESSAGE + 1];

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  long count = argc > 1 ? strtol(argv[1], NULL, 10) : 0; /* 0: forever */

  int sub = webmk_subscribe(in_topic, sizeof in_topic - 1);
  if (sub < 0) {
    fprintf(stderr, "fahrenheit: cannot subscribe to %s: %s%s\n", in_topic, strerror(-sub),
            sub == -EACCES ? " (grant subscribe:sensors/temp)" : "");
    return 1;
  }
  printf("fahrenheit: %s -> %s\n", in_topic, out_topic);

  int publishing = 1;
  for (long n = 0; count == 0 || n < count; n++) {
    int32_t len = webmk_recv(sub, msg, sizeof msg - 1, -1);
    if (len < 0) {
      fprintf(stderr, "fahrenheit: receive failed: %s\n", strerror(-len));
      return 1;
    }
    msg[len] = '\0';
    char *end;
    double c = strtod(msg, &end);
    if (end == msg || (*end != '\0' && *end != '\n')) {
      fprintf(stderr, "fahrenheit: not a number: '%s'\n", msg);
      continue;
    }
    char text[64];
    int tl = snprintf(text, sizeof text, "%.1f", c * 9.0 / 5.0 + 32.0);
    int32_t r = webmk_publish(out_topic, sizeof out_topic - 1, text, (uint32_t)tl);
    if (r < 0 && publishing)
      fprintf(stderr, "fahrenheit: cannot publish on %s: %s%s\n", out_topic, strerror(-r),
              r == -EACCES ? " (grant publish:sensors/temp-f)" : "");
    publishing = r == 0;
    printf("%s C -> %s F\n", msg, text);
  }
  return 0;
}
