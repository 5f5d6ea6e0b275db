#!/usr/bin/env node
// npm run pack -- <dir> [out.zip] [--files <dir>]: zips a package directory (webmk.json and the
// files it names, read from --files when they live elsewhere, e.g. public/modules).
import { writeFileSync } from 'node:fs';
import { packDir } from './package-tools.mjs';

const args = process.argv.slice(2);
const at = args.indexOf('--files');
const filesDir = at >= 0 ? args.splice(at, 2)[1] : undefined;
const [dir, out] = args;
if (dir === undefined) {
  console.error('usage: npm run pack -- <dir> [out.zip] [--files <dir>]');
  process.exit(2);
}
const { zip, name, version } = packDir(dir, filesDir ?? dir);
const file = out ?? `${name}-${version}.zip`;
writeFileSync(file, zip);
console.log(`${file}: ${zip.length} bytes`);
