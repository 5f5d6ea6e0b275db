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
 *   named `webmk.manifest`. Fields: name, version, description, and later
 *   mode, autostart, singleton, restart, permissions, provides, requires,
 *   canvas, dependencies. Use WEBMK_MANIFEST once per program, at file scope:
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
// declared global (kernel.bus.declareGlobal) also reach the app's other tabs.
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
 *                      running, exited)
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

#endif /* WEBMK_H */
