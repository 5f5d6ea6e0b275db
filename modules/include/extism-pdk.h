/*
 * extism-pdk.h: the part of Extism's C plugin development kit webmk's test
 * plugins use, written against Extism's host ABI ("extism:host/env"). A plugin
 * built with Extism's own C PDK uses the same imports and runs the same way.
 *
 * A plugin exports functions that take no arguments and return an int32_t
 * (0: success). Input and output are bytes held by the host: read the input
 * with extism_load_input, set the output with extism_output_buf, report an
 * error with extism_error_set_buf (the caller sees service/error with that
 * text). Memory blocks are addressed by 64-bit handles (ExtismPointer).
 *
 * Build: clang --target=wasm32-wasi --sysroot=/usr -O2 -mexec-model=reactor
 */
#ifndef EXTISM_PDK_H
#define EXTISM_PDK_H

#include <stdint.h>

typedef uint64_t ExtismPointer;

#define EXTISM_IMPORT_ENV(b) __attribute__((import_module("extism:host/env"), import_name(b)))
#define EXTISM_EXPORT_AS(name) __attribute__((export_name(name)))
#define EXTISM_EXPORTED_FUNCTION(name) EXTISM_EXPORT_AS(#name) name(void)

EXTISM_IMPORT_ENV("input_length") extern uint64_t extism_input_length(void);
EXTISM_IMPORT_ENV("input_load_u8") extern uint8_t extism_input_load_u8(ExtismPointer offset);
EXTISM_IMPORT_ENV("input_load_u64") extern uint64_t extism_input_load_u64(ExtismPointer offset);
EXTISM_IMPORT_ENV("length") extern uint64_t extism_length(ExtismPointer p);
EXTISM_IMPORT_ENV("alloc") extern ExtismPointer extism_alloc(uint64_t n);
EXTISM_IMPORT_ENV("free") extern void extism_free(ExtismPointer p);
EXTISM_IMPORT_ENV("output_set") extern void extism_output_set(ExtismPointer p, uint64_t n);
EXTISM_IMPORT_ENV("error_set") extern void extism_error_set(ExtismPointer p);
EXTISM_IMPORT_ENV("store_u8") extern void extism_store_u8(ExtismPointer p, uint8_t v);
EXTISM_IMPORT_ENV("load_u8") extern uint8_t extism_load_u8(ExtismPointer p);
EXTISM_IMPORT_ENV("store_u64") extern void extism_store_u64(ExtismPointer p, uint64_t v);
EXTISM_IMPORT_ENV("load_u64") extern uint64_t extism_load_u64(ExtismPointer p);
EXTISM_IMPORT_ENV("log_info") extern void extism_log_info(ExtismPointer p);
/* The block of config value `key` (a block holding its name), or 0 when there is none. */
EXTISM_IMPORT_ENV("config_get") extern ExtismPointer extism_config_get(ExtismPointer key);

/* Copies the input (at most n bytes) to dst; returns how many were copied. */
static inline uint64_t extism_load_input(uint8_t *dst, uint64_t n) {
  uint64_t len = extism_input_length();
  if (n > len) n = len;
  uint64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w = extism_input_load_u64(i);
    __builtin_memcpy(dst + i, &w, 8);
  }
  for (; i < n; i++) dst[i] = extism_input_load_u8(i);
  return n;
}

/* Copies n bytes from src into a new block. */
static inline ExtismPointer extism_alloc_buf(const void *src, uint64_t n) {
  ExtismPointer p = extism_alloc(n);
  const uint8_t *s = (const uint8_t *)src;
  uint64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    __builtin_memcpy(&w, s + i, 8);
    extism_store_u64(p + i, w);
  }
  for (; i < n; i++) extism_store_u8(p + i, s[i]);
  return p;
}

/* Sets the output to n bytes from src. */
static inline void extism_output_buf(const void *src, uint64_t n) {
  extism_output_set(extism_alloc_buf(src, n), n);
}

/* Sets the call's error message (n bytes of UTF-8). */
static inline void extism_error_set_buf(const char *msg, uint64_t n) {
  extism_error_set(extism_alloc_buf(msg, n));
}

#endif
