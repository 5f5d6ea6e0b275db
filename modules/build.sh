#!/usr/bin/env bash
# Builds the example modules into public/modules/ (plus index.json) and the
# test fixtures into tests/fixtures/. Run from anywhere: bash modules/build.sh
#
# Environment: CLANG (default clang), WASI_SYSROOT (default /usr, Debian's
# wasi-libc), WAT2WASM (default wat2wasm), WASM_OPT (default wasm-opt; skipped
# when not installed). Needs node to read back and check the manifests.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
src="$root/modules/src"
fixtures_src="$root/modules/fixtures"
out="$root/public/modules"
fixtures_out="$root/tests/fixtures"

clang="${CLANG:-clang}"
sysroot="${WASI_SYSROOT:-/usr}"
wat2wasm="${WAT2WASM:-wat2wasm}"
wasm_opt="${WASM_OPT:-wasm-opt}"

# Example modules in the order the shell lists them, with the arguments a
# one-click run passes.
examples=(hello cat wc files ask lines sleep spin)
declare -A example_args=(
  [hello]='["from", "webmk"]'
  [cat]='[]'
  [wc]='[]'
  [files]='["ls", "/"]'
  [ask]='[]'
  [lines]='["20"]'
  [sleep]='["1000"]'
  [spin]='[]'
)
# Graphics: each opens a window.
examples+=(life plasma paint)
example_args+=([life]='[]' [plasma]='[]' [paint]='[]')
# The bus: a source, a function and a sink. Grant their permissions at install.
examples+=(ticker fahrenheit logger)
example_args+=([ticker]='["500", "20"]' [fahrenheit]='[]' [logger]='["sensors/*"]')
# Pipeline tools, for command lines such as seq 1 100 | grep 7 | wc.
examples+=(seq grep head tr sort)
example_args+=([seq]='["1", "20"]' [grep]='["7"]' [head]='["-n", "5"]' [tr]='["a-z", "A-Z"]' [sort]='["-n"]')
# Kernel calls.
examples+=(ps spawner)
# The key-value store.
examples+=(kv)
example_args+=([kv]='["keys"]')
example_args+=([ps]='[]' [spawner]='["hello", "from", "spawner"]')
# An Extism plugin built with Extism's C PDK: a service (a reactor), called from Services.
examples+=(vowels)
example_args+=([vowels]='[]')
declare -A example_flags=([vowels]='-mexec-model=reactor')

# --strip-debug drops the DWARF that Debian's libc.a carries; custom sections
# from object files, the manifest included, stay.
cflags=(--target=wasm32-wasi "--sysroot=$sysroot" -O2 -Wall -Wextra
        -I "$root/modules/include" -Wl,--strip-debug)

have_wasm_opt=0
if command -v "$wasm_opt" >/dev/null 2>&1; then
  have_wasm_opt=1
fi

# compile SRC OUT [FLAGS...]: one C file to one optimized command module.
compile() {
  "$clang" "${cflags[@]}" "${@:3}" "$1" -o "$2"
  if [[ $have_wasm_opt == 1 ]]; then
    # After clang -O2, only -Os still gains (a few percent). wasm-opt keeps
    # custom sections, the manifest included.
    "$wasm_opt" -Os "$2" -o "$2.tmp"
    mv "$2.tmp" "$2"
  fi
  chmod 644 "$2"
}

# Compiles run in the background; wait_all fails the build if any failed.
pids=()
wait_all() {
  local failed=0
  for pid in "${pids[@]}"; do
    wait "$pid" || failed=1
  done
  pids=()
  return "$failed"
}

mkdir -p "$out" "$fixtures_out"

for name in "${examples[@]}"; do
  # shellcheck disable=SC2086 # the flags are words
  compile "$src/$name.c" "$out/$name.wasm" ${example_flags[$name]:-} &
  pids+=($!)
done

for name in trap sock stdin-poll bustool pipetool busbench crashy holder hostile caller fsbench importer callbench kvpong accum homeprobe callseq filekeep; do
  compile "$fixtures_src/$name.c" "$fixtures_out/$name.wasm" &
  pids+=($!)
done
# The importer again, naming plugin in its manifest's inProcess (ADR 0033); and the figure's timer.
compile "$fixtures_src/importer.c" "$fixtures_out/importer-group.wasm" -DIN_PROCESS &
pids+=($!)
compile "$fixtures_src/groupbench.c" "$fixtures_out/groupbench.wasm" &
pids+=($!)
# A declared maximum of 128 MiB makes malloc fail within a fraction of a second
# instead of after growing towards 4 GiB.
compile "$fixtures_src/oom.c" "$fixtures_out/oom.wasm" -Wl,--max-memory=134217728 &
pids+=($!)
# A program that allocates, exporting its malloc (the count-malloc transform finds
# malloc by its export or by name; this toolchain writes no name section). Not
# through wasm-opt, which splits malloc and calls its inner part directly.
"$clang" "${cflags[@]}" -Wl,--export=malloc "$fixtures_src/allocs.c" -o "$fixtures_out/allocs.wasm" &
pids+=($!)
# The graphics probe twice: no canvas in its manifest, and a detachable one.
compile "$fixtures_src/gfx-probe.c" "$fixtures_out/gfx-probe.wasm" &
pids+=($!)
compile "$fixtures_src/gfx-probe.c" "$fixtures_out/gfx-detach.wasm" -DDETACH &
pids+=($!)
# The supervision tool again, with its restart policy and watchdog in its manifest.
compile "$fixtures_src/crashy.c" "$fixtures_out/crashy-supervised.wasm" -DSUPERVISED &
pids+=($!)
# Service modules: an Extism-style plugin (no _start), twice, each allowed to call the other.
compile "$fixtures_src/plugin.c" "$fixtures_out/plugin.wasm" -mexec-model=reactor &
pids+=($!)
compile "$fixtures_src/plugin.c" "$fixtures_out/plugin-b.wasm" -mexec-model=reactor -DPLUGIN_B &
pids+=($!)
# A service linking plugin in its own worker (its manifest's inProcess, ADR 0033).
compile "$fixtures_src/groupsvc.c" "$fixtures_out/groupsvc.wasm" -mexec-model=reactor &
pids+=($!)
# Extism plugins built with Extism's C PDK; mathlib is a bare wasm library (no
# libc) that calc links by name, twice: calc-nolib names a module not installed.
compile "$fixtures_src/pdkprobe.c" "$fixtures_out/pdkprobe.wasm" -mexec-model=reactor &
pids+=($!)
compile "$fixtures_src/calc.c" "$fixtures_out/calc.wasm" -mexec-model=reactor &
pids+=($!)
# hostfn calls host functions of extism:host/user, which the page provides.
compile "$fixtures_src/hostfn.c" "$fixtures_out/hostfn.wasm" -mexec-model=reactor &
pids+=($!)
# pathprobe reads and writes files where its allowed_paths mount them.
compile "$fixtures_src/pathprobe.c" "$fixtures_out/pathprobe.wasm" -mexec-model=reactor &
pids+=($!)
compile "$fixtures_src/calc.c" "$fixtures_out/calc-nolib.wasm" -mexec-model=reactor -DNOLIB &
pids+=($!)
"$clang" --target=wasm32 -nostdlib -O2 -I "$root/modules/include" -Wl,--no-entry -Wl,--strip-debug \
  "$fixtures_src/mathlib.c" -o "$fixtures_out/mathlib.wasm" &
pids+=($!)
# The update tests' package: a bus echo and a service, each as version 1 and 2.
for v in 1 2; do
  compile "$fixtures_src/updater.c" "$fixtures_out/updecho-v$v.wasm" -DVERSION=$v &
  pids+=($!)
  compile "$fixtures_src/updater.c" "$fixtures_out/updsvc-v$v.wasm" -mexec-model=reactor -DSERVICE -DVERSION=$v &
  pids+=($!)
done
for name in bigmem reactor; do
  "$wat2wasm" "$fixtures_src/$name.wat" -o "$fixtures_out/$name.wasm"
done

wait_all

# JS modules are shipped as they are: the examples beside the wasm ones, the test tool as a fixture.
for js in "$root"/modules/js/*.js; do
  cp "$js" "$out/"
done
cp "$fixtures_src/jsprobe.js" "$fixtures_out/jsprobe.js"
cp "$fixtures_src/faultprobe.js" "$fixtures_out/faultprobe.js"
cp "$fixtures_src/hostile.js" "$fixtures_out/hostile-js.js"

hello_size=$(wc -c <"$out/hello.wasm")
head -c $((hello_size / 2)) "$out/hello.wasm" >"$fixtures_out/truncated.wasm"
printf 'this is not wasm\n' >"$fixtures_out/notwasm.wasm"
: >"$fixtures_out/empty.wasm"

# Reads each example's webmk.manifest section back (failing if it is missing,
# is not JSON, or names another module) and writes index.json from it.
index_entries=()
for name in "${examples[@]}"; do
  index_entries+=("$name" "${example_args[$name]}")
done
# JS examples: their manifest is a leading comment, read the same way below.
js_examples=(upper jslogger)
declare -A js_args=([upper]='["hello", "from", "js"]' [jslogger]='["sensors/*"]')
for name in "${js_examples[@]}"; do
  index_entries+=("$name.js" "${js_args[$name]}")
done
# Example packages (packed below): their description is their webmk.json's.
index_entries+=("sensors.zip" '[]')
node - "$out" "${index_entries[@]}" <<'EOF'
const fs = require('node:fs');
const path = require('node:path');

const [dir, ...pairs] = process.argv.slice(2);

function readManifest(file) {
  if (file.endsWith('.zip')) {
    return JSON.parse(fs.readFileSync(path.join(dir, '../../modules/packages', path.basename(file, '.zip'), 'webmk.json'), 'utf8'));
  }
  const bytes = fs.readFileSync(file);
  if (file.endsWith('.js')) {
    const m = /^\s*\/\*\s*webmk\.manifest\s*([\s\S]*?)\*\//.exec(bytes.toString('utf8'));
    if (m === null) throw new Error(`${file}: no webmk.manifest comment`);
    return JSON.parse(m[1]);
  }
  const mod = new WebAssembly.Module(bytes);
  const sections = WebAssembly.Module.customSections(mod, 'webmk.manifest');
  if (sections.length !== 1) throw new Error(`${file}: ${sections.length} webmk.manifest sections`);
  const text = new TextDecoder('utf-8', { fatal: true }).decode(sections[0]);
  if (text.includes('\0')) throw new Error(`${file}: NUL byte in manifest`);
  return JSON.parse(text);
}

const index = [];
for (let i = 0; i < pairs.length; i += 2) {
  const name = pairs[i].replace(/\.(js|zip)$/, '');
  const file = /\.(js|zip)$/.test(pairs[i]) ? pairs[i] : `${name}.wasm`;
  const manifest = readManifest(path.join(dir, file));
  if (manifest.name !== name) throw new Error(`${file}: manifest name is ${manifest.name}`);
  if (typeof manifest.description !== 'string') throw new Error(`${file}: no description`);
  index.push({ name, file, description: manifest.description, args: JSON.parse(pairs[i + 1]) });
}
const lines = index.map((entry) => '  ' + JSON.stringify(entry));
fs.writeFileSync(path.join(dir, 'index.json'), '[\n' + lines.join(',\n') + '\n]\n');
EOF

# The example packages, packed from the modules just built and signed with the published test key.
node "$root/scripts/pack.mjs" "$root/modules/packages/sensors" "$out/sensors.zip" --files "$out"
node "$root/scripts/sign.mjs" "$out/sensors.zip" "$root/modules/packages/sensors-test-key.pem"

echo "built ${#examples[@]} modules in ${out#"$root"/} and fixtures in ${fixtures_out#"$root"/}"
