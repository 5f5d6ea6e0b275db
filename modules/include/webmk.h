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
 * webmk's own capabilities (bus, pipes, graphics, input, key-value store,
 * services, kernel calls) will be imports from the module `webmk`, declared
 * below as they are added. Like WASI calls, they return errno-style codes:
 * 0 means success.
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

#endif /* WEBMK_H */
