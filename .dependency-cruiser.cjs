/**
 * The layer rules of DESIGN.md ("Parts and layers"), checked on every `npm test`
 * (`npm run lint:deps`). Arrows point down only:
 *
 *   main.ts, shell -> kernel -> bus, gfx, kv (capabilities) -> capability (their contract)
 *                            -> registry, hosts -> process (runtime), opfs (file server) -> ipc -> common (floor)
 *                            -> remote (nodes, links) -> hosts (the contract its mode implements)
 *
 * Each rule names the files that break it. tests/unit/layers.test.ts proves every rule fires.
 */
const SRC = '^src/';

/** A folder may import only itself and the folders listed. */
function only(name, folder, allowed, comment) {
  return {
    name,
    comment,
    severity: 'error',
    from: { path: `^src/${folder}/` },
    to: { path: SRC, pathNot: `^src/(${[folder, ...allowed].join('|')})/` },
  };
}

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'Files that import each other, directly or around a loop.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-folder-circle',
      comment: 'Folders that import each other: the layers would no longer stack.',
      severity: 'error',
      scope: 'folder',
      from: { path: SRC },
      to: { circular: true },
    },
    only('floor-imports-nothing', 'common', [], 'common/ is the floor: it imports nothing of src/.'),
    only('ipc-imports-only-the-floor', 'ipc', ['common'], 'ipc/ holds wire protocols and rings: only the floor is under it.'),
    only('registry-imports-only-the-floor', 'registry', ['common'], 'The registry is storage: only the floor is under it.'),
    only(
      'process-runtime-stays-in-its-realm',
      'process',
      ['ipc', 'common'],
      'The process runtime runs inside a module\'s realm and must not drag page-side code along.',
    ),
    only('hosts-below-the-kernel', 'hosts', ['process', 'opfs', 'ipc', 'common'], 'Hosts run processes; they know nothing of the kernel or capabilities.'),
    only(
      'file-server-stands-on-ipc',
      'opfs',
      ['ipc', 'common'],
      'The file server (ADR 0025) runs in a worker of its own and serves processes through ipc/ channels: it knows nothing above them.',
    ),
    only(
      'remote-beside-hosts',
      'remote',
      ['hosts', 'ipc', 'common'],
      'Remote mode (nodes, links, transports) is an execution mode: it implements the host contract and knows nothing of the kernel or capabilities (ADR 0020).',
    ),
    only('contract-below-capabilities', 'capability', ['ipc', 'common'], 'The capability contract sits under both the kernel and the capabilities.'),
    {
      name: 'capabilities-plug-in-from-below',
      comment: 'A capability implements the contract; it imports neither the kernel, nor hosts, nor another capability.',
      severity: 'error',
      from: { path: '^src/(bus|gfx|kv)/' },
      to: { path: SRC, pathNot: ['^src/$1/', '^src/(capability|ipc|common)/'] },
    },
    {
      name: 'kernel-only-from-the-top',
      comment: 'Only main.ts, the shell (and tests) import the kernel.',
      severity: 'error',
      from: { path: SRC, pathNot: ['^src/kernel/', '^src/shell/', '^src/main\\.ts$'] },
      to: { path: '^src/kernel/' },
    },
    only('shell-uses-the-kernel-api', 'shell', ['kernel', 'bus', 'gfx', 'kv', 'common'], 'The shell drives the kernel through its API, not its parts.'),
    only('boot-stands-alone', 'boot', ['common'], 'Boot (isolation, service worker) runs before the kernel and needs none of it.'),
    {
      name: 'sw-stands-alone',
      comment: 'The service worker is its own program; the page shares only sw/protocol.ts with it.',
      severity: 'error',
      from: { path: '^sw/' },
      to: { path: SRC },
    },
    {
      name: 'page-reaches-sw-only-by-protocol',
      severity: 'error',
      from: { path: SRC },
      to: { path: '^sw/', pathNot: '^sw/protocol\\.ts$' },
    },
    {
      name: 'index-is-the-surface',
      comment: 'Other folders import a folder through its index.ts (a worker entry, a process\'s or the file server\'s, is loaded by URL, not imported).',
      severity: 'error',
      from: { path: '^src/([^/]+)/' },
      to: { path: SRC, pathNot: ['^src/$1/', '^src/[^/]+/index\\.ts$', '^src/process/worker-entry\\.ts$', '^src/opfs/worker-entry\\.ts$'] },
    },
    {
      name: 'process-runtime-takes-no-page-libraries',
      comment: 'In a module\'s realm the only library is the WASI shim.',
      severity: 'error',
      from: { path: '^src/process/' },
      to: { dependencyTypes: ['npm', 'npm-dev', 'npm-optional', 'npm-peer', 'npm-no-pkg', 'npm-unknown'], pathNot: '@bjorn3/browser_wasi_shim' },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    parser: 'swc',
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '\\.css$' },
    // libp2p's packages export ESM only ("import" and "types" conditions, no "require").
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
  },
};
