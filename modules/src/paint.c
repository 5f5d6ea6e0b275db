/*
 * paint: draw with the pointer. Left button paints, right button erases; the
 * strip at the top picks a colour (or keys 1-8); + and - change the brush, c
 * clears. The canvas follows the window's size. It presents only when
 * something changed and sleeps otherwise.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "webmk.h"

WEBMK_MANIFEST("{\"name\":\"paint\",\"version\":\"1.0.0\","
               "\"description\":\"A small paint program: left button paints, right erases, "
               "pick colours from the strip, + and - size the brush\","
               "\"canvas\":{\"width\":800,\"height\":600}}");

#define STRIP 28
#define RGBA(r, g, b) ((uint32_t)(r) | (uint32_t)(g) << 8 | (uint32_t)(b) << 16 | 0xff000000u)
#define PAPER RGBA(250, 250, 246)

static const uint32_t colours[8] = {
    RGBA(20, 20, 24),  RGBA(220, 50, 47),  RGBA(240, 140, 30), RGBA(240, 210, 40),
    RGBA(60, 170, 80), RGBA(40, 120, 220), RGBA(140, 70, 200), RGBA(250, 250, 246),
};

static uint32_t *pixels;
static int w, h;
static int colour, brush = 4;

static void fill(int x0, int y0, int x1, int y1, uint32_t c) {
  if (x0 < 0) x0 = 0;
  if (y0 < 0) y0 = 0;
  if (x1 > w) x1 = w;
  if (y1 > h) y1 = h;
  for (int y = y0; y < y1; y++)
    for (int x = x0; x < x1; x++) pixels[y * w + x] = c;
}

static void strip(void) {
  int cw = w / 8;
  for (int i = 0; i < 8; i++) {
    fill(i * cw, 0, i == 7 ? w : (i + 1) * cw, STRIP, colours[i]);
    if (i == colour) fill(i * cw + 4, STRIP - 6, (i + 1) * cw - 4, STRIP - 3, i == 0 ? PAPER : colours[0]);
  }
  fill(0, STRIP, w, STRIP + 1, RGBA(160, 160, 160));
}

static void dot(int cx, int cy, int r, uint32_t c) {
  for (int y = cy - r; y <= cy + r; y++)
    for (int x = cx - r; x <= cx + r; x++)
      if (y > STRIP && y < h && x >= 0 && x < w && (x - cx) * (x - cx) + (y - cy) * (y - cy) <= r * r) pixels[y * w + x] = c;
}

static void line(int x0, int y0, int x1, int y1, int r, uint32_t c) {
  int dx = abs(x1 - x0), dy = abs(y1 - y0), n = dx > dy ? dx : dy;
  if (n == 0) n = 1;
  for (int i = 0; i <= n; i++) dot(x0 + (x1 - x0) * i / n, y0 + (y1 - y0) * i / n, r, c);
}

/* A canvas of nw x nh keeping what overlaps the old one. */
static int resize(int nw, int nh) {
  if (nw < 64) nw = 64;
  if (nh < 64) nh = 64;
  if (nw > 4096) nw = 4096;
  if (nh > 4096) nh = 4096;
  uint32_t *next = malloc((size_t)nw * nh * 4);
  if (next == NULL) return -1;
  for (int i = 0; i < nw * nh; i++) next[i] = PAPER;
  for (int y = 0; pixels != NULL && y < h && y < nh; y++) memcpy(next + y * nw, pixels + y * w, (size_t)(w < nw ? w : nw) * 4);
  free(pixels);
  pixels = next;
  w = nw;
  h = nh;
  strip();
  return 0;
}

int main(void) {
  if (resize(800, 600) < 0 || (webmk_gfx_open(0, 0) < 0 && webmk_gfx_open(800, 600) < 0)) {
    fprintf(stderr, "paint: no window\n");
    return 1;
  }
  int dirty = 1, down = -1, lx = 0, ly = 0;
  webmk_event ev[128];
  const struct timespec idle = {0, 8 * 1000 * 1000};
  for (;;) {
    int n = webmk_input_poll(ev, 128);
    for (int i = 0; i < n; i++) {
      const webmk_event *e = &ev[i];
      switch (e->type) {
        case WEBMK_EV_POINTER_DOWN:
          if (e->y < STRIP && e->button == 0) {
            colour = e->x / (w / 8);
            if (colour > 7) colour = 7;
            strip();
          } else if (e->button == 0 || e->button == 2) {
            down = (int)e->button;
            lx = e->x;
            ly = e->y;
            dot(lx, ly, brush, down == 2 ? PAPER : colours[colour]);
          }
          dirty = 1;
          break;
        case WEBMK_EV_POINTER_MOVE:
          if (down >= 0) {
            line(lx, ly, e->x, e->y, brush, down == 2 ? PAPER : colours[colour]);
            lx = e->x;
            ly = e->y;
            dirty = 1;
          }
          break;
        case WEBMK_EV_POINTER_UP:
          down = -1;
          break;
        case WEBMK_EV_KEY_DOWN:
          if (e->key >= '1' && e->key <= '8') colour = (int)e->key - '1';
          else if (e->key == '+' || e->key == '=') brush = brush < 64 ? brush + 1 : brush;
          else if (e->key == '-') brush = brush > 1 ? brush - 1 : brush;
          else if (e->key == 'c') fill(0, STRIP + 1, w, h, PAPER);
          strip();
          dirty = 1;
          break;
        case WEBMK_EV_RESIZE:
          if (e->x != w || e->y != h) dirty = resize(e->x, e->y) == 0 || dirty;
          break;
      }
    }
    if (dirty) {
      if (webmk_gfx_present(pixels, (uint32_t)w, (uint32_t)h) < 0) return 1;
      dirty = 0;
    } else {
      nanosleep(&idle, NULL);
    }
  }
}
