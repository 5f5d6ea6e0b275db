/**
 * The desktop's permission questions: a queue of modules waiting for the person's answer (one
 * dialog at a time, several files may be dropped at once) and the `kernel.grant` calls it leads to.
 */
import type { ReactiveControllerHost } from 'lit';
import type { KernelApi, ModuleInfo } from '../kernel';
import { describeError } from './format';
import type { GrantPrompt } from './grant-dialog';
import type { Toasts } from './toasts';

/** Owned by the desktop; `current` is what the dialog shows. */
export class PermissionPrompts {
  #queue: GrantPrompt[] = [];
  readonly #host: ReactiveControllerHost;
  readonly #kernel: () => KernelApi;
  readonly #toasts: Toasts;

  constructor(host: ReactiveControllerHost, kernel: () => KernelApi, toasts: Toasts) {
    this.#host = host;
    this.#kernel = kernel;
    this.#toasts = toasts;
  }

  /** The question on screen, if any. */
  get current(): GrantPrompt | undefined {
    return this.#queue[0];
  }

  /** Asks about `module` (after the ones already waiting); a module waits at most once. */
  ask(module: ModuleInfo, reason: GrantPrompt['reason']): void {
    if (module.requested.length === 0) return;
    const at = this.#queue.findIndex((p) => p.module.name === module.name);
    if (at >= 0) this.#queue[at] = { module, reason: this.#queue[at]?.reason ?? reason };
    else this.#queue.push({ module, reason });
    this.#queue = [...this.#queue];
    this.#host.requestUpdate();
  }

  /** Takes the person's answer for `name` (null: change nothing) and applies it. */
  async answer(name: string, permissions: 'all' | string[] | null): Promise<void> {
    const prompt = this.#queue.find((p) => p.module.name === name);
    this.#queue = this.#queue.filter((p) => p !== prompt);
    this.#host.requestUpdate();
    if (prompt === undefined || permissions === null) return;
    try {
      const info = await this.#kernel().grant(name, permissions);
      const granted = info.grants.publish.length + info.grants.subscribe.length + info.grants.kernel.length;
      const total = info.requested.length;
      this.#toasts.show(
        'ok',
        granted === 0
          ? `${name} may do nothing beyond WASI. Permissions… changes that.`
          : `${name} may do ${granted === total ? `all ${total}` : `${granted} of the ${total}`} things it asked for.`,
      );
    } catch (e) {
      this.#toasts.show('error', `Could not change what ${name} may do: ${describeError(e)}`);
    }
  }
}
