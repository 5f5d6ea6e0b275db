/*
 * life: Conway's Game of Life in a window. Click a cell to toggle it (drag to
 * draw), space pauses, n steps once while paused, r fills at random, c clears,
 * q or Escape quits. The board wraps around at its edges.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "webmk.h"

WEBMK_MANIFEST("{\"name\":\"life\",\"version\":\"1.0.0\","
               "\"description\":\"Conway's Game of Life: click toggles cells, space pauses, "
               "n steps, r randomises, c clears\","
               "\"canvas\":{\"width\":640,\"height\":400}}");

#define CELL 4
#define COLS 160
#define ROWS 100
#define W (COLS * CELL)
#define H (ROWS * CELL)
/* Frames per generation while running: 60 Hz / 4 = 15 generations a second. */
#define FRAMES_PER_STEP 4

#define RGBA(r, g, b) ((uint32_t)(r) | (uint32_t)(g) << 8 | (uint32_t)(b) << 16 | 0xff000000u)

static uint8_t board[2][ROWS][COLS];
static int cur;
static uint32_t frame[W * H];
static uint32_t seed = 2463534242u;

static uint32_t rnd(void) {
  seed ^= seed << 13;
  seed ^= seed >> 17;
  seed ^= seed << 5;
  return seed;
}

static void randomise(void) {
  for (int y = 0; y < ROWS; y++)
    for (int x = 0; x < COLS; x++) board[cur][y][x] = (rnd() % 100) < 28;
}

static void step(void) {
  uint8_t(*a)[COLS] = board[cur];
  uint8_t(*b)[COLS] = board[cur ^ 1];
  for (int y = 0; y < ROWS; y++) {
    int up = (y + ROWS - 1) % ROWS, down = (y + 1) % ROWS;
    for (int x = 0; x < COLS; x++) {
      int l = (x + COLS - 1) % COLS, r = (x + 1) % COLS;
      int n = a[up][l] + a[up][x] + a[up][r] + a[y][l] + a[y][r] + a[down][l] + a[down][x] + a[down][r];
      b[y][x] = n == 3 || (n == 2 && a[y][x]);
    }
  }
  cur ^= 1;
}

static void draw(int paused) {
  const uint32_t alive = paused ? RGBA(240, 200, 110) : RGBA(120, 230, 160);
  const uint32_t dead = RGBA(18, 22, 30), grid = RGBA(28, 33, 44);
  for (int y = 0; y < H; y++) {
    uint32_t *row = frame + y * W;
    const uint8_t *cells = board[cur][y / CELL];
    int edge_y = (y % CELL) == CELL - 1;
    for (int x = 0; x < W; x++) {
      int edge = edge_y || (x % CELL) == CELL - 1;
      row[x] = cells[x / CELL] ? (edge ? dead : alive) : (edge ? grid : dead);
    }
  }
}

int main(void) {
  seed ^= (uint32_t)time(NULL);
  randomise();
  int rc = webmk_gfx_open(0, 0); /* the manifest's 640 x 400 */
  if (rc < 0) rc = webmk_gfx_open(W, H);
  if (rc < 0) {
    fprintf(stderr, "life: no window (%d)\n", rc);
    return 1;
  }
  int paused = 0, painting = -1, frames = 0;
  unsigned long generation = 0;
  webmk_event ev[64];
  for (;;) {
    int n = webmk_input_poll(ev, 64);
    for (int i = 0; i < n; i++) {
      const webmk_event *e = &ev[i];
      int cx = e->x / CELL, cy = e->y / CELL;
      int inside = cx >= 0 && cx < COLS && cy >= 0 && cy < ROWS;
      if (e->type == WEBMK_EV_POINTER_DOWN && e->button == 0 && inside) {
        painting = !board[cur][cy][cx];
        board[cur][cy][cx] = (uint8_t)painting;
      } else if (e->type == WEBMK_EV_POINTER_MOVE && painting >= 0 && (e->button & 1) && inside) {
        board[cur][cy][cx] = (uint8_t)painting;
      } else if (e->type == WEBMK_EV_POINTER_UP) {
        painting = -1;
      } else if (e->type == WEBMK_EV_KEY_DOWN) {
        switch (e->key) {
          case ' ': paused = !paused; break;
          case 'n': if (paused) { step(); generation++; } break;
          case 'r': randomise(); break;
          case 'c': memset(board[cur], 0, sizeof board[cur]); break;
          case 'q':
          case WEBMK_KEY_ESCAPE: printf("life: %lu generations\n", generation); return 0;
        }
      }
    }
    if (!paused && painting < 0 && ++frames % FRAMES_PER_STEP == 0) {
      step();
      generation++;
    }
    draw(paused);
    if (webmk_gfx_present(frame, W, H) < 0) return 1;
  }
}
