/**
 * `npm run relay` on the Node this runs on (20.19+: libp2p 3.x needs Promise.withResolvers,
 * which the script polyfills): prints its multiaddr, keeps its identity with --key, refuses a
 * bad port.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { firstLine } from './netns';

const SCRIPT = resolve(import.meta.dirname, '../../scripts/relay.mjs');

async function startRelay(args: string[]): Promise<{ relay: string; stop(): void }> {
  const child = spawn(process.execPath, [SCRIPT, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const relay = await firstLine(child, (line) => {
    const m = /^relay (\S+)$/.exec(line.trim());
    return m?.[1];
  });
  return { relay, stop: () => child.kill('SIGTERM') };
}

describe('npm run relay', () => {
  it('listens on 127.0.0.1 over ws and prints its multiaddr', async () => {
    const r = await startRelay(['--port', '0']);
    try {
      expect(r.relay).toMatch(/^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/ws\/p2p\/12D3Koo\w+$/);
    } finally {
      r.stop();
    }
  }, 30_000);

  it('keeps its identity across restarts with --key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'webmk-relay-'));
    try {
      const key = join(dir, 'relay.key');
      const first = await startRelay(['--port', '0', '--key', key]);
      first.stop();
      const second = await startRelay(['--port', '0', '--key', key]);
      second.stop();
      const id = (a: string) => a.split('/p2p/')[1];
      expect(id(second.relay)).toBe(id(first.relay));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);

  it('refuses a port that is not one', () => {
    const r = spawnSync(process.execPath, [SCRIPT, '--port', 'eighty'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--port');
  });
});
