#!/usr/bin/env node
// npm run keygen -- <name>: writes <name>.pem (the private key: keep it secret) and <name>.pub
// (base64 of the raw public key: what people trust with kernel.trust.add or in the shell).
import { existsSync, writeFileSync } from 'node:fs';
import { generateKey } from './package-tools.mjs';

const [name] = process.argv.slice(2);
if (name === undefined) {
  console.error('usage: npm run keygen -- <name>');
  process.exit(2);
}
if (existsSync(`${name}.pem`)) {
  console.error(`${name}.pem exists; not overwriting a key`);
  process.exit(1);
}
const { privateKeyPem, publicKey } = generateKey();
writeFileSync(`${name}.pem`, privateKeyPem, { mode: 0o600 });
writeFileSync(`${name}.pub`, `${publicKey}\n`);
console.log(`private key: ${name}.pem (keep it secret)\npublic key:  ${publicKey}`);
