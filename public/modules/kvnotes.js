/* webmk.manifest {
  "name": "kvnotes",
  "version": "1.0.0",
  "description": "Counts and watches notes in the key-value group notes (a JS module)",
  "permissions": { "kv": ["read:notes", "write:notes"] }
} */
// kvnotes bump: adds one to the key "count" with compare-and-set, retrying on a conflict.
// kvnotes watch N: prints the next N changed keys of the group, then their values.
export default async function main(webmk) {
  const [, mode, n] = webmk.args;
  if (mode === 'bump') {
    for (;;) {
      const old = await webmk.kv.get('notes', 'count');
      const next = String(Number(old ?? '0') + 1);
      try {
        await webmk.kv.set('notes', 'count', next, { expect: old ?? null });
        await webmk.print(`${next}\n`);
        return 0;
      } catch (e) {
        if (e.code !== 'kv/conflict') throw e;
      }
    }
  }
  if (mode === 'watch') {
    const watch = await webmk.kv.watch('notes');
    await webmk.print('watching\n');
    let left = Number(n ?? '1');
    for await (const change of watch) {
      for (const key of change.keys) {
        const v = await webmk.kv.get('notes', key);
        await webmk.print(`${key}=${typeof v === 'string' ? v : new TextDecoder().decode(v ?? new Uint8Array())}\n`);
        left -= 1;
      }
      if (left <= 0) break;
    }
    await watch.close();
    return 0;
  }
  await webmk.eprint('usage: kvnotes bump | kvnotes watch N\n');
  return 2;
}
