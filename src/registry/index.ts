/** The module registry (IndexedDB): packages, modules, their bytes by SHA-256, trusted keys, module analysis. */
export { Registry, type InstallRequest, type Installed } from './registry';
export { analyse, capabilities, chooseName, MANIFEST_SECTION } from './analyse';
export { capMemory, importResults, sections, hasWasmMagic, type Capped, type NumType } from './wasm-binary';
export { homeDirectory, readHome, readHomeFile, writeHomeFile, makeHomeDirectory, removeHomeEntry, type HomeRoot } from './homes';
export { satisfies, isRange, isVersion } from './semver';
export { KvDb, kvSize, type KvGroupInfo, type KvValue } from './kv-db';
export { SnapshotStore, type HibernatedRecord } from './snapshots';
export { zipPackage } from './zip';
export { sha256Hex } from './signature';
