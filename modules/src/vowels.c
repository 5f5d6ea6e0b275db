// vowels: Extism's canonical example plugin, built with Extism's C PDK
// (include/extism-pdk.h) as a WASI reactor. It is a service, not a command:
// call it from the page with kernel.call('vowels', 'count_vowels', 'Hello,
// World!'), or from the shell's Services view.
//
//   count_vowels   counts the vowels of its input and returns JSON:
//                  {"count": 3, "total": 3, "vowels": "aeiouAEIOU"}
//                  "total" is the running count, kept in the var "total"
//                  across calls of one instance; "vowels" is the config value
//                  "vowels" when the manifest gives one (service.config).
#define EXTISM_IMPLEMENTATION
#include "extism-pdk.h"
#include "webmk.h"

#include <stdio.h>
#include <string.h>

WEBMK_MANIFEST("{\"name\":\"vowels\",\"version\":\"1.0.0\","
               "\"description\":\"An Extism plugin (C PDK): count_vowels returns a JSON count; call it from Services\"}");

static char vowels[64] = "aeiouAEIOU";
static uint8_t chunk[4096];

// The config value "vowels" (at most 63 bytes), or the default.
static void load_vowels(void) {
  ExtismHandle v = extism_config_get_buf_from_sz("vowels");
  if (v == 0) return;
  uint64_t n = extism_length(v);
  if (n >= sizeof vowels) n = sizeof vowels - 1;
  extism_load_from_handle(v, 0, vowels, n);
  vowels[n] = 0;
  extism_free(v);
}

// The running total kept in the var "total" (8 bytes, little-endian), plus n.
static uint64_t add_to_total(uint64_t n) {
  uint64_t total = 0;
  ExtismHandle v = extism_var_get_buf_from_sz("total");
  if (v != 0 && extism_length(v) == sizeof total) extism_load_from_handle(v, 0, &total, sizeof total);
  if (v != 0) extism_free(v);
  total += n;
  ExtismHandle out = extism_alloc_buf(&total, sizeof total);
  extism_var_set_buf_from_sz("total", out);
  extism_free(out);
  return total;
}

int32_t EXTISM_EXPORTED_FUNCTION(count_vowels) {
  load_vowels();
  uint64_t length = extism_input_length();
  uint64_t count = 0;
  for (uint64_t at = 0; at < length; at += sizeof chunk) {
    uint64_t n = length - at < sizeof chunk ? length - at : sizeof chunk;
    extism_load_input(at, chunk, n);
    for (uint64_t i = 0; i < n; i++)
      if (chunk[i] != 0 && strchr(vowels, chunk[i]) != NULL) count++;
  }
  uint64_t total = add_to_total(count);
  // The vowels as a JSON string: only printable ASCII other than quote and backslash is kept.
  char shown[sizeof vowels];
  size_t k = 0;
  for (size_t i = 0; vowels[i] != 0; i++)
    if (vowels[i] >= 0x20 && vowels[i] < 0x7f && vowels[i] != '"' && vowels[i] != '\\') shown[k++] = vowels[i];
  shown[k] = 0;
  char out[160];
  int len = snprintf(out, sizeof out, "{\"count\": %llu, \"total\": %llu, \"vowels\": \"%s\"}", (unsigned long long)count,
                     (unsigned long long)total, shown);
  extism_output_buf(out, (size_t)len);
  return 0;
}
