/**
 * The bench page: each figure is a function the runner calls through `window.bench.run(name)`;
 * it measures webmk and its raw baseline in this page, in this run, and returns table rows.
 */
import { busFigure } from './figures/bus';
import { filesFigure } from './figures/files';
import { iframeFigure } from './figures/iframe';
import { iframeBusFigure } from './figures/iframe-bus';
import { importGroupFigure } from './figures/import-group';
import { killFigure } from './figures/kill';
import { kvFigure } from './figures/kv';
import { leaksFigure } from './figures/leaks';
import { migrateFigure } from './figures/migrate';
import { packagesFigure } from './figures/packages';
import { remoteFigure } from './figures/remote';
import { remoteWindowFigure } from './figures/remote-window';
import { startPeer } from './lib/peer';
import { servicesFigure } from './figures/services';
import { spawnFigure } from './figures/spawn';
import { stallFigure } from './figures/stall';
import { stdinFigure } from './figures/stdin';
import { stdoutFigure } from './figures/stdout';
import { stormFigure } from './figures/storm';
import { supervisionFigure } from './figures/supervision';
import { wallFigure } from './figures/wall';
import type { FigureResult } from './lib/report';

const FIGURES = {
  spawn: spawnFigure,
  stdout: stdoutFigure,
  stdin: stdinFigure,
  storm: stormFigure,
  stall: stallFigure,
  kill: killFigure,
  bus: busFigure,
  supervision: supervisionFigure,
  iframe: iframeFigure,
  'iframe-bus': iframeBusFigure,
  leaks: leaksFigure,
  services: servicesFigure,
  'import-group': importGroupFigure,
  kv: kvFigure,
  packages: packagesFigure,
  files: filesFigure,
  remote: remoteFigure,
  'remote-window': remoteWindowFigure,
  migrate: migrateFigure,
  // Last: it fills the page's renderer with wasm memories.
  wall: wallFigure,
} satisfies Record<string, () => Promise<FigureResult>>;

/** What the runner sees on the page. */
export interface BenchPage {
  figures: string[];
  run(name: string): Promise<FigureResult>;
}

declare global {
  interface Window {
    bench: BenchPage;
  }
}

// In a frame with `?peer=<db>`, the page is the other node of the remote figure, nothing else.
const peerDb = new URLSearchParams(location.search).get('peer');
if (peerDb !== null) void startPeer(peerDb, new URLSearchParams(location.search).has('raw'));

window.bench = {
  figures: Object.keys(FIGURES),
  run(name) {
    if (!globalThis.crossOriginIsolated) return Promise.reject(new Error('the bench page is not cross-origin isolated'));
    const f = (FIGURES as Record<string, () => Promise<FigureResult>>)[name];
    if (f === undefined) return Promise.reject(new Error(`no figure "${name}"`));
    return f();
  },
};
document.body.dataset.ready = 'true';
