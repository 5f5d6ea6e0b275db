#!/usr/bin/env node
// npm run sign -- <zip> <key.pem>: writes webmk.sig into the package, signed with the private key.
import { readFileSync, writeFileSync } from 'node:fs';
import { signZip } from './package-tools.mjs';

const [zipFile, keyFile] = process.argv.slice(2);
if (zipFile === undefined || keyFile === undefined) {
  console.error('usage: npm run sign -- <package.zip> <private-key.pem>');
  process.exit(2);
}
const signed = signZip(new Uint8Array(readFileSync(zipFile)), readFileSync(keyFile, 'utf8'));
writeFileSync(zipFile, signed);
console.log(`${zipFile}: signed`);
