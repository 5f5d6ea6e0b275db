/*
 * plasma: a full-window animated plasma at 1280 x 720, computed in wasm every
 * frame and presented at the display's rate. Prints the frame rate every two
 * seconds. Space pauses, q or Escape quits.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "webmk.h"

WEBMK_MANIFEST("{\"name\":\"plasma\",\"version\":\"1.0.0\","
               "\"description\":\"A 1280x720 animated plasma drawn in wasm at the display's frame rate\","
               "\"canvas\":{\"width\":1280,\"height\":720}}");

#define W 1280
#define H 720

static uint32_t frame[W * H];
static uint8_t sine[256];
static uint8_t dist[H][W];
static uint32_t palette[256];

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void setup(void) {
  const double tau = 6.283185307179586;
  for (int i = 0; i < 256; i++) {
    sine[i] = (uint8_t)(127.5 + 127.5 * sin(i * tau / 256));
    double t = i * tau / 256;
    int r = (int)(128 + 127 * sin(t)), g = (int)(128 + 127 * sin(t + tau / 3)), b = (int)(128 + 127 * sin(t + 2 * tau / 3));
    palette[i] = (uint32_t)r | (uint32_t)g << 8 | (uint32_t)b << 16 | 0xff000000u;
  }
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++) {
      double dx = x - W / 2.0, dy = y - H / 2.0;
      dist[y][x] = (uint8_t)((int)(sqrt(dx * dx + dy * dy) / 3.0) & 255);
    }
}

static void draw(unsigned t) {
  for (int y = 0; y < H; y++) {
    uint32_t *row = frame + y * W;
    const uint8_t *d = dist[y];
    unsigned sy = sine[(y + t * 2) & 255] + sine[(y / 2 + t) & 255];
    for (int x = 0; x < W; x++) {
      unsigned v = sy + sine[(x / 2 + t) & 255] + sine[(d[x] + t * 3) & 255] + sine[((x + y) / 4 + t) & 255];
      row[x] = palette[(v / 5 + t) & 255];
    }
  }
}

int main(void) {
  setup();
  int rc = webmk_gfx_open(0, 0);
  if (rc < 0) rc = webmk_gfx_open(W, H);
  if (rc < 0) {
    fprintf(stderr, "plasma: no window (%d)\n", rc);
    return 1;
  }
  unsigned t = 0, frames = 0;
  int paused = 0;
  double since = now_s();
  webmk_event ev[32];
  for (;;) {
    int n = webmk_input_poll(ev, 32);
    for (int i = 0; i < n; i++) {
      if (ev[i].type != WEBMK_EV_KEY_DOWN) continue;
      if (ev[i].key == ' ') paused = !paused;
      if (ev[i].key == 'q' || ev[i].key == WEBMK_KEY_ESCAPE) return 0;
    }
    if (!paused) draw(t++);
    if (webmk_gfx_present(frame, W, H) < 0) return 1;
    frames++;
    double now = now_s();
    if (now - since >= 2.0) {
      printf("plasma: %.1f frames/s\n", frames / (now - since));
      fflush(stdout);
      frames = 0;
      since = now;
    }
  }
}
