/*
 * ticker: a source. Publishes a simulated temperature on sensors/temp every PERIOD ms,
 * and obeys "pause", "resume", "rate MS" and "stop" on control/ticker between readings.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "webmk.h"

WEBMK_MANIFEST("{\"name\":\"ticker\",\"version\":\"1.0.0\","
               "\"description\":\"Source: publishes a simulated temperature on sensors/temp: "
               "ticker [PERIOD_MS [COUNT [SEED]]]\","
               "\"permissions\":{\"publish\":[\"sensors/temp\"],\"subscribe\":[\"control/ticker\"]}}");

static const char topic[] = "sensors/temp";
static const char control[] = "control/ticker";

static long long now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* xorshift32: the same seed gives the same readings. */
static uint32_t rng;

static double uniform(void) { /* in [-1, 1) */
  rng ^= rng << 13;
  rng ^= rng >> 17;
  rng ^= rng << 5;
  return (double)rng / 2147483648.0 - 1.0;
}

/* A smooth random walk around 21 C: a damped drift nudged by noise and pulled back to the mean. */
static double temp = 21.0, drift = 0.0;

static void step(void) {
  drift = 0.85 * drift + 0.08 * uniform() + 0.01 * (21.0 - temp);
  temp += drift;
}

struct state {
  int sub;         /* control subscription, or -1 */
  int paused;
  int stop;
  long period;     /* ms */
  long long next;  /* when the next reading is due, on now_ms()'s clock */
  long long last;  /* when the last reading was published */
};

static long parse_ms(const char *s, const char *what) {
  char *end;
  long v = strtol(s, &end, 10);
  if (*s == '\0' || *end != '\0' || v < 0 || v > 86400000) {
    fprintf(stderr, "ticker: invalid %s: '%s'\n", what, s);
    exit(2);
  }
  return v;
}

/* Applies one control message (surrounding whitespace ignored). */
static void obey(struct state *st, char *msg, int len) {
  while (len > 0 && (msg[len - 1] == '\n' || msg[len - 1] == ' ' || msg[len - 1] == '\r'))
    len--;
  msg[len] = '\0';
  while (*msg == ' ')
    msg++;
  char *end;
  long ms;
  if (strcmp(msg, "pause") == 0) {
    st->paused = 1;
    printf("paused\n");
  } else if (strcmp(msg, "resume") == 0) {
    if (st->paused)
      st->next = now_ms() + st->period;
    st->paused = 0;
    printf("resumed\n");
  } else if (strcmp(msg, "stop") == 0) {
    st->stop = 1;
    printf("stopped\n");
  } else if (strncmp(msg, "rate ", 5) == 0 && (ms = strtol(msg + 5, &end, 10)) >= 0 && ms <= 86400000 &&
             end != msg + 5 && *end == '\0') {
    st->period = ms;
    st->next = st->last + ms;
    printf("rate %ld ms\n", ms);
  } else {
    fprintf(stderr, "ticker: ignoring control message '%s' (pause, resume, rate MS, stop)\n", msg);
  }
}

/*
 * Waits until the next reading is due, or while paused. The wait is a receive on the control
 * channel with the time left as its timeout, so a message is obeyed as soon as it arrives; with
 * nothing left to wait, it still polls once (timeout 0), so even a period of 0 can be paused.
 */
static void wait_next(struct state *st) {
  static char msg[WEBMK_MAX_MESSAGE + 1];
  while (!st->stop) {
    long long left = st->next - now_ms();
    if (left < 0)
      left = 0;
    if (st->sub < 0) {
      if (left == 0)
        return;
      struct timespec t = {left / 1000, (left % 1000) * 1000000L};
      nanosleep(&t, NULL);
      continue;
    }
    int32_t r = webmk_recv(st->sub, msg, sizeof msg - 1, st->paused ? -1 : (int32_t)left);
    if (r >= 0) {
      obey(st, msg, r);
    } else if (r == -EAGAIN) {
      if (!st->paused)
        return;
    } else {
      fprintf(stderr, "ticker: control channel failed: %s\n", strerror(-r));
      st->sub = -1;
      st->paused = 0;
    }
  }
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  struct state st = {.sub = -1, .period = 500};
  if (argc > 1)
    st.period = parse_ms(argv[1], "period");
  long count = argc > 2 ? parse_ms(argv[2], "count") : 0;
  /* Spreads small seeds over the state (xorshift must not start at 0), then starts near 21. */
  rng = (argc > 3 ? (uint32_t)strtoul(argv[3], NULL, 10) : 1) * 2654435761u ^ 0x9e3779b9u;
  if (rng == 0)
    rng = 1;
  for (int i = 0; i < 8; i++)
    uniform();
  temp += 1.5 * uniform();

  st.sub = webmk_subscribe(control, sizeof control - 1);
  if (st.sub < 0)
    fprintf(stderr, "ticker: no control channel on %s: %s%s\n", control, strerror(-st.sub),
            st.sub == -EACCES ? " (grant subscribe:control/ticker)" : "");

  int publishing = 1; /* warn once when publishing starts failing, once when it works again */
  int status = 0;
  st.next = now_ms();
  for (long i = 1; count == 0 || i <= count; i++) {
    wait_next(&st);
    if (st.stop)
      break;
    step();
    char text[32];
    int len = snprintf(text, sizeof text, "%.1f", temp);
    int32_t r = webmk_publish(topic, sizeof topic - 1, text, (uint32_t)len);
    if (r < 0 && publishing)
      fprintf(stderr, "ticker: cannot publish on %s: %s%s\n", topic, strerror(-r),
              r == -EACCES ? " (grant publish:sensors/temp)" : "");
    else if (r == 0 && !publishing)
      fprintf(stderr, "ticker: publishing on %s again\n", topic);
    publishing = r == 0;
    if (r < 0)
      status = 1;
    printf("reading %ld: %s\n", i, text);
    st.last = now_ms();
    st.next = st.last + st.period;
  }
  return status;
}
