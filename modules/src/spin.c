/* spin: runs a busy loop forever, to test kill and the watchdog. */
#include <stdio.h>

#include "webmk.h"

WEBMK_MANIFEST("{\"name\":\"spin\",\"version\":\"1.0.0\","
               "\"description\":\"Busy-loops forever until killed\"}");

int main(void) {
  printf("spinning\n");
  fflush(stdout);
  volatile unsigned long counter = 0;
  for (;;)
    counter++;
}
