/*
 * webmk.h: the webmk guest ABI for C modules.
 *
 * A webmk module is a WebAssembly binary that runs in its own Web Worker.
 *
 * Base ABI: WASI preview1
 *   Imports from `wasi_snapshot_preview1` behave as the WASI preview1 spec says.
 *   Any unmodified wasm32-wasi(p1) command builds and runs as is, e.g.
 *
 *       clang --target=wasm32-wasi --sysroot=/usr -O2 prog.c -o prog.wasm
 *
 *   - A command exports `_start` (and `memory`); its exit code is the code
 *     given to `proc_exit`, or 0 when `_start` returns. A trap ends the process
 *     with a nonzero code.
 *   - argv[0] is the module name; argv[1..] and the environment are exactly
 *     what the spawner passed.
 *   - Blocking calls (fd_read on stdin, poll_oneoff, sleeping) block only the
 *     module's own worker.
 *   - Calls that webmk does not support (sockets, for example) return an errno
 *     such as ENOSYS or ENOTSUP. They never trap.
 *   - A pointer or length that reaches outside linear memory fails the call with
 *     EFAULT; nothing is read or written outside memory.
 *
 * webmk's own capabilities (bus, kernel calls, graphics, input, and later
 * key-value store and services) are imports from the module `webmk`, declared
 * below. Like WASI calls, they return errno-style codes: 0 or a count means
 * success, a negative value is -errno. Pipes need no import: `a | b` connects
 * a's stdout to b's stdin (see kernel.pipeline); a write to a pipe whose
 * reader has exited fails with EPIPE, and a reader sees end of file when its
 * writer exits.
 *
 * Module manifest
 *   A module describes itself with JSON embedded in a wasm custom section
 *   named `webmk.manifest`. Fields: name, version, description, permissions,
 *   canvas, globalTopics, restart, watchdogMs, mode, autostart, startOrder
 *   (see the README; a person's configuration overrides the last five), and
 *   later singleton, provides, requires, dependencies. Use WEBMK_MANIFEST once
 *   per program, at file scope:
 *
 *       #include "webmk.h"
 *
 *       WEBMK_MANIFEST("{\"name\":\"hello\",\"version\":\"1.0.0\","
 *                      "\"description\":\"Prints a greeting\"}");
 *
 *   The argument is a string literal (adjacent literals are joined). The
 *   section holds exactly its bytes: no trailing NUL, no other framing.
 *   C escapes are kept: "\\n" stores the two JSON bytes \n.
 *   Using the macro in two translation units of one program concatenates
 *   both strings into one section, which is not valid JSON: don't.
 *
 *   The section survives `-Wl,--strip-debug`, `-s` and `wasm-opt`; check with
 *   `wasm-objdump -s -j webmk.manifest prog.wasm`.
 */
#ifndef WEBMK_H
#define WEBMK_H

#define WEBMK_STRINGIFY_(x) #x

#if defined(__wasm__)
/*
 * Clang 14's wasm assembler knows no `.pushsection`/`.previous`, and a
 * `section` attribute on a data object makes a data segment, not a custom
 * section. So the JSON goes out through file-scope inline assembly: a section
 * named `.custom_section.<name>` becomes custom section `<name>` at link time.
 * Stringifying the literal turns it back into an assembler string with the
 * same escapes. `.text` then restores a normal section for what follows.
 */
#define WEBMK_MANIFEST(json)                                         \
  __asm__(".section .custom_section.webmk.manifest,\"\",@\n"         \
          ".ascii " WEBMK_STRINGIFY_(json) "\n"                      \
          ".text\n")
#else
/* Native builds (tests of module logic on the host) carry no manifest. */
#define WEBMK_MANIFEST(json) struct webmk_manifest_unused_
#endif

/* ---------------------------------------------------------------------------
 * Imports from the module `webmk`
 *
 * Every call returns a count or 0 on success, or a negative errno (wasi-libc's
 * numbering, so `-EACCES` compares with <errno.h>'s EACCES). None traps.
 * ------------------------------------------------------------------------- */
#include <stdint.h>

#if defined(__wasm__)
#define WEBMK_IMPORT(name) __attribute__((import_module("webmk"), import_name(name)))
#else
#define WEBMK_IMPORT(name)
#endif

// ---- The bus: publish and subscribe on topics ------------------------------
//
// Topics are printable ASCII without spaces, 1..255 bytes, `/`-separated
// (e.g. "sensors/temp"). A subscription pattern is an exact topic, a
// `prefix/*` pattern ("control/*" matches "control/speed" and
// "control/a/b"), or `*` (every topic).
//
// Permissions: a module may publish or subscribe only where it was granted.
// It asks in its manifest and the person (or a script) grants at install:
//
//     WEBMK_MANIFEST("{\"name\":\"ticker\",\"version\":\"1.0.0\","
//                    "\"permissions\":{\"publish\":[\"sensors/temp\"],"
//                    "\"subscribe\":[\"control/*\"]}}");
//
// Delivery: in order per publisher, to every subscription that exists when the
// message is published, in any module of the tab or in the page. Topics
// declared global also reach the app's other tabs: by the page
// (kernel.bus.declareGlobal) or by a module's manifest, "globalTopics": ["chat/*"].
// A message is at most WEBMK_MAX_MESSAGE bytes.
//
// Each subscription has a bounded inbox (1 MiB by default: at least 1,024
// messages of 1 KiB). When it is full, new messages for it are dropped and
// counted: webmk_dropped() tells how many. Nothing else is ever lost.
#define WEBMK_MAX_MESSAGE 65536
#define WEBMK_MAX_TOPIC 255

/* Publishes `len` bytes on `topic`. Never blocks (a full inbox drops).
 * Returns 0; -EACCES (not granted), -EMSGSIZE (len > WEBMK_MAX_MESSAGE),
 * -EINVAL (bad topic or pointers). */
WEBMK_IMPORT("publish")
int32_t webmk_publish(const char *topic, uint32_t topic_len, const void *data, uint32_t len);

/* Subscribes to a topic or pattern. Once it returns, every later publish on a
 * matching topic reaches this subscription. Blocks briefly (the kernel checks
 * the grant). Returns a subscription id >= 0; -EACCES, -EINVAL, -ENOSPC (too
 * many subscriptions). */
WEBMK_IMPORT("subscribe")
int32_t webmk_subscribe(const char *topic, uint32_t topic_len);

/* Receives the next message of `sub` into `buf`. Blocks this module's worker
 * (never the page) until a message arrives or `timeout_ms` passes: -1 waits
 * forever, 0 polls. Returns the message length; -EAGAIN (timed out),
 * -EMSGSIZE (`cap` is smaller than the message, which stays queued: call
 * again with a larger buffer), -EBADF (no such subscription). */
WEBMK_IMPORT("recv")
int32_t webmk_recv(int32_t sub, void *buf, uint32_t cap, int32_t timeout_ms);

/* The topic of the message webmk_recv last returned on `sub`: copies at most
 * `cap` bytes (no NUL) and returns the topic's full length, like snprintf;
 * -EBADF. */
WEBMK_IMPORT("recv_topic")
int32_t webmk_recv_topic(int32_t sub, char *buf, uint32_t cap);

/* How many messages for `sub` were dropped because its inbox was full, since
 * it was made; -EBADF. */
WEBMK_IMPORT("dropped")
int32_t webmk_dropped(int32_t sub);

/* Ends a subscription. Returns 0; -EBADF. */
WEBMK_IMPORT("unsubscribe")
int32_t webmk_unsubscribe(int32_t sub);

/* ---- Kernel calls ----------------------------------------------------------
 *
 * Each needs its grant: "permissions": {"kernel": ["list","spawn","kill","ps"]}.
 * Without it a call returns -EACCES (and the shell shows the attempt).
 * List answers are text, one line per entry, fields separated by one space:
 *   webmk_kernel_list: "NAME VERSION SIZE\n" per installed module
 *   webmk_kernel_ps:   "PID NAME STATE\n" per process (STATE: starting,
 *                      running, backoff, exited)
 * They copy at most `cap` bytes and return the full length, like snprintf.
 */
WEBMK_IMPORT("kernel_list")
int32_t webmk_kernel_list(char *buf, uint32_t cap);

WEBMK_IMPORT("kernel_ps")
int32_t webmk_kernel_ps(char *buf, uint32_t cap);

/* Starts module `name` with arguments `args`: `args_len` bytes of
 * NUL-separated strings (argv[1..]; may be 0). The child's stdin is empty and
 * its output is discarded. Returns its pid; -ENOENT (no such module), -EACCES,
 * -EINVAL. */
WEBMK_IMPORT("kernel_spawn")
int32_t webmk_kernel_spawn(const char *name, uint32_t name_len, const char *args, uint32_t args_len);

/* Ends process `pid`. Returns 0; -ESRCH (no such running process), -EACCES. */
WEBMK_IMPORT("kernel_kill")
int32_t webmk_kernel_kill(int32_t pid);

/* ---- Service calls -----------------------------------------------------------
 *
 * A service module has no _start: a WASI reactor or an Extism plugin (see
 * extism-pdk.h) that stays instantiated and serves calls to its exports, one
 * at a time, in order. An exported function takes no arguments and returns an
 * int32_t, 0 for success; its input and output go through Extism's host ABI
 * ("extism:host/env"), so Extism plugins are services as they are.
 *
 * webmk_call calls function `fn` of service `module` with `in_len` bytes of
 * input and blocks until it answers. It copies at most `out_cap` bytes of the
 * output to `out` and returns the output's full length (like snprintf), or:
 *   -EACCES   not granted: "permissions": {"call": ["<module>"]}
 *   -ENOENT   no such module, or it is a command (it has _start)
 *   -ENOSYS   it exports no function `fn`
 *   -EIO      the function failed: it set an error (extism_error_set),
 *             returned nonzero, or trapped (the service starts again fresh)
 *   -EDEADLK  a call loop: `module` waits, directly or through others, on
 *             this module (A -> B -> A); refused at once, both stay usable
 *   -ETIMEDOUT it did not answer within 10 s (or what is left of the caller's
 *             own deadline, when the caller is itself serving a call); a call
 *             that was running is ended with its instance, which starts fresh
 *   -EMSGSIZE the output is over about 190 KiB
 *   -EFAULT, -EINVAL  a pointer outside memory, a name that is not UTF-8
 * The first call to a service goes through the kernel; the next ones from a
 * module in a worker go straight to the service's worker (ADR 0027), with the
 * same codes.
 */
WEBMK_IMPORT("call")
int32_t webmk_call(const char *module, uint32_t module_len, const char *fn, uint32_t fn_len,
                   const void *in, uint32_t in_len, void *out, uint32_t out_cap);

/* ---- The key-value store -----------------------------------------------------
 *
 * Groups of keys, persistent (IndexedDB), shared with the page, other modules
 * and the app's other tabs. A group is named like a module (letters, digits,
 * ".", "_", "-"; at most 64); a key is 1..256 UTF-8 bytes without "\n" or NUL;
 * a value is bytes, at most 1 MiB; a group holds at most 16 MiB. Reading a
 * group needs "permissions": {"kv": ["read:<group>"]}, changing it
 * "write:<group>"; deny by default. Each call blocks until the kernel answers.
 * Errors for all of them:
 *   -EACCES   not granted         -EINVAL   a bad group or key name
 *   -EMSGSIZE key or value too large, or an answer over about 190 KiB
 *   -ENOSPC   the group's quota   -EIO      storage failed
 *   -EFAULT   a pointer outside memory
 */

/* Copies at most `cap` bytes of the value to `out`; returns its full length
 * (like snprintf), -ENOENT when there is none. Text set by the page is UTF-8. */
WEBMK_IMPORT("kv_get")
int32_t webmk_kv_get(const char *group, uint32_t group_len, const char *key, uint32_t key_len,
                     void *out, uint32_t cap);

/* Stores the value whole (never half-written). Returns 0. */
WEBMK_IMPORT("kv_set")
int32_t webmk_kv_set(const char *group, uint32_t group_len, const char *key, uint32_t key_len,
                     const void *value, uint32_t value_len);

/* Compare-and-set: stores only if the stored value is `expect`
 * (expect_len == WEBMK_KV_ABSENT: only if there is none). Returns 0, or
 * -EAGAIN when the stored value differs (read it again and retry). */
#define WEBMK_KV_ABSENT 0xffffffffu
WEBMK_IMPORT("kv_cas")
int32_t webmk_kv_cas(const char *group, uint32_t group_len, const char *key, uint32_t key_len,
                     const void *expect, uint32_t expect_len, const void *value, uint32_t value_len);

/* Removes the key. Returns 1 when it was there, 0 when not. */
WEBMK_IMPORT("kv_delete")
int32_t webmk_kv_delete(const char *group, uint32_t group_len, const char *key, uint32_t key_len);

/* The group's keys, sorted, one a line ("key\n"), copied like snprintf. */
WEBMK_IMPORT("kv_keys")
int32_t webmk_kv_keys(const char *group, uint32_t group_len, char *out, uint32_t cap);

/* Starts (or stops) keeping the group's changes for webmk_kv_next. Returns 0. */
WEBMK_IMPORT("kv_watch")
int32_t webmk_kv_watch(const char *group, uint32_t group_len);
WEBMK_IMPORT("kv_unwatch")
int32_t webmk_kv_unwatch(const char *group, uint32_t group_len);

/* Blocks until a watched group changes (by anyone: the page, a module, another
 * tab) or `timeout_ms` passes (negative: 60 s). Writes "group\tkey\n" lines,
 * at most `cap` bytes (at least 512); what does not fit waits for the next
 * call. Returns the bytes written, 0 on timeout. A key of "*" means more keys
 * changed than were kept (1,024): read the group again. The module pulls its
 * changes: nothing of it runs while the store notifies, so it cannot re-enter
 * the store from inside a notification. -EINVAL before any webmk_kv_watch. */
WEBMK_IMPORT("kv_next")
int32_t webmk_kv_next(int32_t timeout_ms, char *out, uint32_t cap);

/* ---- Supervision -------------------------------------------------------------
 *
 * A process spawned with a watchdog ("watchdogMs" in its manifest or spawn
 * options) is ended (reason watchdog-expired, then its restart policy applies)
 * once it runs that long without calling the system while not waiting in a
 * blocking call. Any call counts; a long computation that calls nothing else
 * calls this now and then (like systemd's WATCHDOG=1). Needs no grant; returns 0.
 */
WEBMK_IMPORT("heartbeat")
int32_t webmk_heartbeat(void);

/* ---- Graphics: a window to draw into ---------------------------------------
 *
 * A module gets one window in the shell and shows frames in it: plain RGBA8
 * pixels in its own memory (row-major, 4 bytes per pixel, no row padding;
 * alpha should be 255: a window is opaque). The frame goes from the module's
 * memory to the screen with one copy, in the module's own worker; the page
 * never touches a pixel. Sizes are 1..8192 per side and at most 4096 * 4096
 * pixels.
 *
 * The window can be moved, resized (the canvas keeps its pixel size; the
 * shell scales it, keeping its aspect) and closed. Closing it ends the module,
 * unless its manifest says "detach": then the module gets WEBMK_EV_CLOSE and
 * runs on, and presents fail with -EPIPE until it opens a new window.
 *
 * A manifest may ask for the window up front; it then opens at spawn, and
 * webmk_gfx_open(0, 0) takes it at that size:
 *
 *     WEBMK_MANIFEST("{\"name\":\"plasma\",\"version\":\"1.0.0\","
 *                    "\"canvas\":{\"width\":1280,\"height\":720}}");
 *
 *         ... "\"canvas\":{\"width\":320,\"height\":200,\"detach\":true}}");
 */

/* Opens this module's window with a canvas of width x height pixels (0, 0:
 * the manifest's size). Opening again resizes the canvas. Blocks briefly.
 * Returns 0; -EINVAL (a size out of range, or 0 x 0 without a manifest
 * size), -EAGAIN (too many windows are open), -ENOSYS (no graphics here). */
WEBMK_IMPORT("gfx_open")
int32_t webmk_gfx_open(uint32_t width, uint32_t height);

/* Shows one frame of width x height RGBA8 pixels at `rgba`, then blocks until
 * the next frame may be drawn: the display's next frame (60 Hz on most
 * screens), so a loop of compute-then-present runs at the display's rate and
 * never makes frames faster than they can be shown. A size other than the
 * canvas's resizes the canvas; without a window, the first present opens
 * one. While the page is hidden, presents return about once a second.
 * Returns 0; -EINVAL (size), -EFAULT (the frame is not inside memory),
 * -EPIPE (the person closed a detachable window). */
WEBMK_IMPORT("gfx_present")
int32_t webmk_gfx_present(const void *rgba, uint32_t width, uint32_t height);

/* Closes this module's window; the module runs on. Returns 0; -EPIPE (no
 * window). */
WEBMK_IMPORT("gfx_close")
int32_t webmk_gfx_close(void);

/* ---- Input: what the person does in the window ---------------------------- */

typedef struct {
  uint32_t type;   /* WEBMK_EV_* */
  int32_t x, y;    /* pointer: canvas pixels; wheel: deltas in pixels;
                      resize: the shown size in device pixels */
  uint32_t button; /* pointer down/up: 0 left, 1 middle, 2 right;
                      pointer move: buttons held (1 left, 2 right, 4 middle);
                      key: 1 for an auto-repeat */
  uint32_t key;    /* key events: see below */
  uint32_t mods;   /* WEBMK_MOD_* held during the event */
} webmk_event;

#define WEBMK_EV_KEY_DOWN 1
#define WEBMK_EV_KEY_UP 2
#define WEBMK_EV_POINTER_DOWN 3
#define WEBMK_EV_POINTER_UP 4
#define WEBMK_EV_POINTER_MOVE 5
#define WEBMK_EV_WHEEL 6
#define WEBMK_EV_FOCUS 7  /* the window got the keyboard */
#define WEBMK_EV_BLUR 8   /* ... and lost it */
#define WEBMK_EV_RESIZE 9 /* the person resized the window: x, y = the size it
                             shows the canvas at, in device pixels; present
                             frames of that size to follow it, or ignore it */
#define WEBMK_EV_CLOSE 10 /* a detachable window was closed */

#define WEBMK_MOD_SHIFT 1
#define WEBMK_MOD_CTRL 2
#define WEBMK_MOD_ALT 4
#define WEBMK_MOD_META 8

/* `key` is the Unicode code point of the key's character when it makes one
 * ('a', 'A', ' ', '7', U+00E9 ...: KeyboardEvent.key), else one of these.
 * Keys with an ASCII control character use it; the others lie above U+10FFFF
 * so they never equal a character. Tab moves the keyboard focus out of the
 * window (so the page stays usable without a mouse) and is not delivered. */
#define WEBMK_KEY_BACKSPACE 8
#define WEBMK_KEY_TAB 9
#define WEBMK_KEY_ENTER 13
#define WEBMK_KEY_ESCAPE 27
#define WEBMK_KEY_DELETE 127
#define WEBMK_KEY_UNKNOWN 0x110000
#define WEBMK_KEY_LEFT 0x110001
#define WEBMK_KEY_RIGHT 0x110002
#define WEBMK_KEY_UP 0x110003
#define WEBMK_KEY_DOWN 0x110004
#define WEBMK_KEY_HOME 0x110005
#define WEBMK_KEY_END 0x110006
#define WEBMK_KEY_PAGE_UP 0x110007
#define WEBMK_KEY_PAGE_DOWN 0x110008
#define WEBMK_KEY_INSERT 0x110009
#define WEBMK_KEY_SHIFT 0x11000a
#define WEBMK_KEY_CONTROL 0x11000b
#define WEBMK_KEY_ALT 0x11000c
#define WEBMK_KEY_META 0x11000d
#define WEBMK_KEY_CAPS_LOCK 0x11000e
#define WEBMK_KEY_F(n) (0x110010 + (n)) /* F1..F12 */

/* Copies the events that arrived since the last poll (oldest first, at most
 * `max`) into `events`. Never blocks; works whether or not the module ever
 * presents. A window queues 1,024 events; past that, new ones are dropped
 * until the module polls. Returns the count (0..max); -EFAULT. */
WEBMK_IMPORT("input_poll")
int32_t webmk_input_poll(webmk_event *events, uint32_t max);

#endif /* WEBMK_H */
