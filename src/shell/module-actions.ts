/**
 * Installing, uninstalling and configuring modules for the desktop: from files (dropped, picked,
 * or opened with the app) and from the examples. Each ends in a message; an install also asks the
 * person what the new module may do.
 */
import type { ReactiveControllerHost } from 'lit';
import type { ModuleConfig, ModuleInfo } from '../kernel';
import type { ConfigPrompt } from './config-dialog';
import { fetchExample, type Example } from './examples';
import { describeError, formatKiB } from './format';
import type { KernelFeed } from './kernel-feed';
import type { PermissionPrompts } from './permission-prompts';
import type { Toasts } from './toasts';

/** Owned by the desktop; `busy` is what the examples view shows as in progress. */
export class ModuleActions {
  /** Names of the examples being downloaded and installed. */
  busy: ReadonlySet<string> = new Set();
  /** The module the Configure… dialog shows, if it is open. */
  configuring: ConfigPrompt | undefined;

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

  /** Installs `files` one after another, each under its file name. */
  async installFiles(files: File[]): Promise<void> {
    for (const file of files) {
      await this.#install(file.name, () => this.#feed.need().install(file));
    }
  }

  /** Downloads and installs an example, marking it busy meanwhile. */
  async installExample(ex: Example): Promise<void> {
    this.#setBusy(new Set([...this.busy, ex.name]));
    await this.#install(ex.name, async () => this.#feed.need().install(await fetchExample(ex), { name: ex.name }));
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

  /** Stores the dialog's answer (null: change nothing); a refusal keeps the dialog open and says why. */
  async saveConfig(name: string, config: ModuleConfig | null): Promise<void> {
    const open = this.configuring;
    if (open === undefined || open.module.name !== name) return;
    if (config !== null) {
      try {
        await this.#feed.need().configure(name, config);
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

  async #install(label: string, install: () => Promise<ModuleInfo | ModuleInfo[]>): Promise<void> {
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
      this.#toasts.show('error', `Could not install ${label}: ${describeError(e)}`);
    }
  }

  #setBusy(busy: ReadonlySet<string>): void {
    this.busy = busy;
    this.#host.requestUpdate();
  }
}
