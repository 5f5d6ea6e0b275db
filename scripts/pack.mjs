#!/usr/bin/env node
// npm run pack -- <dir> [out.zip]: zips a package directory (webmk.json and the files it names).
import { writeFileSync } from 'node:fs';
import { packDir } from './package-tools.mjs';

const [dir, out] = process.argv.slice(2);
if (dir === undefined) {
  console.error('usage: npm run pack -- <dir> [out.zip]');
  process.exit(2);
}
const { zip, name, version } = packDir(dir);
const file = out ?? `${name}-${version}.zip`;
writeFileSync(file, zip);
console.log(`${file}: ${zip.length} bytes`);
