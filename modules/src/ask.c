/* ask: asks for names on stdin and greets each one. */
#include <stdio.h>
#include <string.h>

#include "webmk.h"

WEBMK_MANIFEST("{\"name\":\"ask\",\"version\":\"1.0.0\","
               "\"description\":\"Asks for your name on stdin and greets you\"}");

/* Prompts and reads one line without its newline. Returns 0 at EOF. */
static int ask(const char *prompt, char *line, int size) {
  fputs(prompt, stdout);
  fflush(stdout);
  if (!fgets(line, size, stdin))
    return 0;
  line[strcspn(line, "\r\n")] = '\0';
  return 1;
}

int main(void) {
  char line[256];
  for (;;) {
    if (!ask("What is your name? ", line, sizeof line))
      break;
    printf("Hello, %s!\n", line);
    if (!ask("Another? [y/n] ", line, sizeof line) || (line[0] != 'y' && line[0] != 'Y'))
      break;
  }
  return 0;
}
