/**
 * Installing, uninstalling and configuring modules for the desktop: from files (dropped, picked,
 * or opened with the app) and from the examples. Each ends in a message; an install also asks the
 * person what the new module may do.
 */
import type { ReactiveControllerHost } from 'lit';
import { isKernelError, type InstallOptions, type ModuleConfig, type ModuleInfo } from '../kernel';
import type { ConfigPrompt } from './config-dialog';
import type { FilesView } from './files-dialog';
import { fetchExample, type Example } from './examples';
import { describeError, formatKiB } from './format';
import type { KernelFeed } from './kernel-feed';
import type { PermissionPrompts } from './permission-prompts';
import type { Toasts } from './toasts';
import type { UntrustedPrompt } from './untrusted-dialog';

/** Owned by the desktop; `busy` is what the examples view shows as in progress. */
export class ModuleActions {
  /** Names of the examples being downloaded and installed. */
  busy: ReadonlySet<string> = new Set();
  /** The module the Configure… dialog shows, if it is open. */
  configuring: ConfigPrompt | undefined;
  /** The module home the Files… dialog shows, if it is open. */
  browsing: FilesView | undefined;
  /** The package waiting for the person's word because no trusted key vouches for it. */
  untrusted: UntrustedPrompt | undefined;
  #untrustedFile: File | string | undefined;
  /** The URL being downloaded and how far it is. */
  fetching: { url: string; loaded: number; total?: number } | undefined;
  #untrustedAnswered: (() => void) | undefined;

  readonly #host: ReactiveControllerHost;
  readonly #feed: KernelFeed;
  readonly #prompts: PermissionPrompts;
  readonly #toasts: Toasts;

  constructor(host: ReactiveControllerHost, feed: KernelFeed, prompts: PermissionPrompts, toasts: Toasts) {
    this.#host = host;
    this.#feed = feed;
    this.#prompts = prompts;
    this.#toasts = toasts;
  }

  /** Installs `files` one after another, each under its file name; a package no trusted key vouches for waits for the person. */
  async installFiles(files: File[]): Promise<void> {
    for (const file of files) {
      await this.#install(file.name, () => this.#feed.need().install(file), file);
    }
  }

  /** Downloads and installs a module or package from a URL, showing how far the download is. */
  async installUrl(url: string): Promise<void> {
    this.fetching = { url, loaded: 0 };
    this.#host.requestUpdate();
    const onProgress = (p: { loaded: number; total?: number }): void => {
      this.fetching = { url, ...p };
      this.#host.requestUpdate();
    };
    try {
      await this.#install(url, () => this.#feed.need().install(url, { onProgress }), url);
    } finally {
      this.fetching = undefined;
      this.#host.requestUpdate();
    }
  }

  /** Downloads a package as a zip (a lone module as a package of one). */
  async exportPackage(name: string): Promise<void> {
    try {
      const zip = await this.#feed.need().exportPackage(name);
      const url = URL.createObjectURL(new Blob([zip as Uint8Array<ArrayBuffer>], { type: 'application/zip' }));
      const a = document.createElement('a');
      a.href = url;
      a.download = `${name}.zip`;
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
      this.#toasts.show('ok', `Exported ${name} as ${name}.zip.`);
    } catch (e) {
      this.#toasts.show('error', `Could not export ${name}: ${describeError(e)}`);
    }
  }

  /** The person's answer about an untrusted package: leave it, install it anyway, or trust its key and install. */
  async answerUntrusted(answer: 'cancel' | 'install' | 'trust'): Promise<void> {
    const prompt = this.untrusted;
    const file = this.#untrustedFile;
    const done = this.#untrustedAnswered;
    this.untrusted = undefined;
    this.#untrustedFile = undefined;
    this.#untrustedAnswered = undefined;
    this.#host.requestUpdate();
    if (prompt === undefined || file === undefined) return;
    try {
      if (answer === 'cancel') {
        this.#toasts.show('info', `Did not install ${prompt.packageName}.`);
        return;
      }
      if (answer === 'trust' && prompt.publisher !== null) await this.#feed.need().trust.add(prompt.publisher);
      const opts: InstallOptions = answer === 'install' ? { untrusted: true } : {};
      await this.#install(prompt.label, () => this.#feed.need().install(file, opts));
    } catch (e) {
      this.#toasts.show('error', `Could not trust that key: ${describeError(e)}`);
    } finally {
      done?.();
    }
  }

  /** Uninstalls a package with all its modules (confirmed already). */
  async uninstallPackage(name: string, force: boolean): Promise<void> {
    try {
      await this.#feed.need().uninstall(name, { force });
      this.#toasts.show('ok', `Uninstalled package ${name}.`);
      await this.#feed.refreshModules();
    } catch (e) {
      this.#toasts.show('error', `Could not uninstall ${name}: ${describeError(e)}`);
    }
  }

  /** Trusts a publisher key, or stops trusting it. */
  async trust(publicKey: string, add: boolean, label?: string): Promise<void> {
    try {
      if (add) await this.#feed.need().trust.add(publicKey, label !== undefined ? { label } : {});
      else await this.#feed.need().trust.remove(publicKey);
      this.#toasts.show('ok', add ? 'The key is trusted: packages it signs install without asking.' : 'The key is no longer trusted.');
      await this.#feed.refreshModules();
    } catch (e) {
      this.#toasts.show('error', `Could not change the trusted keys: ${describeError(e)}`);
    }
  }

  /**
   * Downloads and installs an example, marking it busy meanwhile. A package example (a `.zip`)
   * asks first, as a dropped one does, when no trusted key vouches for it.
   */
  async installExample(ex: Example): Promise<void> {
    this.#setBusy(new Set([...this.busy, ex.name]));
    if (ex.file.endsWith('.zip')) {
      try {
        const file = new File([(await fetchExample(ex)) as Uint8Array<ArrayBuffer>], ex.file, { type: 'application/zip' });
        await this.#install(ex.name, () => this.#feed.need().install(file), file);
      } catch (e) {
        this.#toasts.show('error', `Could not install ${ex.name}: ${describeError(e)}`);
      }
    } else await this.#install(ex.name, async () => this.#feed.need().install(await fetchExample(ex), { name: ex.name }));
    const busy = new Set(this.busy);
    busy.delete(ex.name);
    this.#setBusy(busy);
  }

  /** Uninstalls a module (the person has confirmed it already). */
  async uninstall(name: string): Promise<void> {
    try {
      await this.#feed.need().uninstall(name);
      this.#toasts.show('ok', `Uninstalled ${name}.`);
      await this.#feed.refreshModules();
    } catch (e) {
      this.#toasts.show('error', `Could not uninstall ${name}: ${describeError(e)}`);
    }
  }

  /** Opens the permissions question for an installed module. */
  askPermissions(name: string): void {
    const m = this.#feed.modules.find((x) => x.name === name);
    if (m !== undefined) this.#prompts.ask(m, 'change');
  }

  /** Opens the Configure… dialog for an installed module. */
  configure(name: string): void {
    const m = this.#feed.modules.find((x) => x.name === name);
    if (m === undefined) return;
    this.configuring = { module: m };
    this.#host.requestUpdate();
  }

  /** Opens the Files… dialog on a module's home (`kernel.home`). */
  async browseFiles(name: string): Promise<void> {
    try {
      const home = await this.#feed.need().home(name);
      this.browsing = { module: name, home };
      this.#host.requestUpdate();
    } catch (e) {
      this.#toasts.show('error', `Could not open the home of ${name}: ${describeError(e)}`);
    }
  }

  closeFiles(): void {
    this.browsing = undefined;
    this.#host.requestUpdate();
  }

  /** Stores the dialog's answer (null: change nothing); a refusal keeps the dialog open and says why. */
  async saveConfig(name: string, config: ModuleConfig | null, migratable?: boolean): Promise<void> {
    const open = this.configuring;
    if (open === undefined || open.module.name !== name) return;
    if (config !== null) {
      try {
        await this.#feed.need().configure(name, config);
        // Instrumenting takes a second or more (off the page's thread); the dialog waits for it.
        if (migratable !== undefined && migratable !== (open.module.migratable !== undefined)) await this.#feed.need().setMigratable(name, migratable);
        this.#toasts.show('ok', `Saved how ${name} runs; it applies from its next start.`);
        await this.#feed.refreshModules();
      } catch (e) {
        if (this.configuring === open) this.configuring = { module: open.module, error: describeError(e) };
        this.#host.requestUpdate();
        return;
      }
    }
    if (this.configuring === open) this.configuring = undefined;
    this.#host.requestUpdate();
  }

  async #install(label: string, install: () => Promise<ModuleInfo | ModuleInfo[]>, file?: File | string): Promise<void> {
    try {
      const got = await install();
      const list = Array.isArray(got) ? got : [got];
      const m = list[0];
      if (m === undefined) return;
      if (Array.isArray(got)) this.#toasts.show('ok', `Installed package ${m.package} ${m.version}: ${list.map((x) => x.name).join(', ')}.`);
      else this.#toasts.show('ok', `Installed ${m.name}${m.version ? ` ${m.version}` : ''} (${formatKiB(m.size)}).`);
      // Installed with nothing granted; the person chooses what each may do.
      for (const x of list) this.#prompts.ask(x, 'install');
      await this.#feed.refreshModules();
    } catch (e) {
      if (file !== undefined && isKernelError(e, 'registry/untrusted')) return this.#askUntrusted(label, file, e.details);
      this.#toasts.show('error', `Could not install ${label}: ${describeError(e)}`);
    }
  }

  /** Asks whether to install a package no trusted key vouches for; settles once answered. */
  #askUntrusted(label: string, file: File | string, details: Record<string, unknown>): Promise<void> {
    const packageName = typeof details.package === 'string' ? details.package : label;
    const publisher = typeof details.publisher === 'string' ? details.publisher : null;
    this.untrusted = { label, packageName, publisher };
    this.#untrustedFile = file;
    this.#host.requestUpdate();
    return new Promise((resolve) => (this.#untrustedAnswered = resolve));
  }

  #setBusy(busy: ReadonlySet<string>): void {
    this.busy = busy;
    this.#host.requestUpdate();
  }
}
