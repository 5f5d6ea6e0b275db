/** Packages as the registry keeps them and as `kernel.packages()` shows them. */

/** How a package arrived: a zip with `webmk.json`, or a lone module (a package of one). */
export type PackageFormat = 'zip' | 'module';

/**
 * Whose word a package carries: `trusted` (its signature verifies under a key the person
 * trusts now), `untrusted-key` (it verifies, under a key not trusted, or no longer), `unsigned`.
 */
export type SignatureState = 'trusted' | 'untrusted-key' | 'unsigned';

/** A package as the registry stores it. */
export interface PackageRecord {
  name: string;
  version: string;
  description: string;
  format: PackageFormat;
  /** Its modules' names, in the manifest's order. */
  modules: string[];
  /** Package name to semver range, as `webmk.json` gives them. */
  dependencies: Record<string, string>;
  /** Base64 of the raw Ed25519 key whose signature verified at install; null when unsigned. */
  publisher: string | null;
  /** Lower-case hex SHA-256 of `webmk.json` (absent for a lone module). */
  manifestSha256?: string;
  /** Milliseconds since the epoch. */
  installedAt: number;
  /** The person agreed to install it although it is not signed by a trusted key. */
  acceptedUntrusted: boolean;
  /** `webmk.json` and `webmk.sig` as installed (for export; absent for a lone module). */
  manifestText?: string;
  signatureText?: string;
}

/** One module of a package and how it is now (eKuiper's per-symbol status). */
export interface PackageModuleStatus {
  name: string;
  version: string;
  kind: 'wasm' | 'js';
  sha256: string;
  /** `running` while a process of it is live, `error` when its last process failed or crashed, else `installed`. */
  state: 'installed' | 'running' | 'error';
  /** Its live processes. */
  pids: number[];
  /** How many live processes use it (the same as `pids.length`). */
  refCount: number;
  /** Why its last process failed, when `state` is `error`. */
  error?: string;
  /** Which version each live process runs: after an update, older ones until they end or move on. */
  running: Array<{ pid: number; version: string; sha256: string }>;
}

/** A package with its modules' status (`kernel.packages()`). */
export interface PackageInfo extends Omit<PackageRecord, 'modules' | 'manifestText' | 'signatureText'> {
  modules: PackageModuleStatus[];
  signature: SignatureState;
  /** Installed packages that depend on this one. */
  dependents: string[];
}

/** A publisher key the person trusts. */
export interface TrustedKey {
  /** Base64 of the raw 32-byte Ed25519 public key. */
  publicKey: string;
  /** Milliseconds since the epoch. */
  addedAt: number;
  label?: string;
}
