/**
 * Hibernate, Resume and Move to… from the process list (ADR 0019). Resuming a process the shell
 * shows no terminal for (one hibernated before a reload) attaches to it and opens one first, so
 * the person carries on typing where it was.
 */
import { describeError } from './format';
import type { KernelFeed } from './kernel-feed';
import type { TerminalSessions } from './terminal-sessions';
import type { Toasts } from './toasts';
import type { ExecutionMode } from '../kernel';

/** Owned by the desktop; every failure becomes a message. */
export class ProcessActions {
  readonly #feed: KernelFeed;
  readonly #sessions: TerminalSessions;
  readonly #toasts: Toasts;

  constructor(feed: KernelFeed, sessions: TerminalSessions, toasts: Toasts) {
    this.#feed = feed;
    this.#sessions = sessions;
    this.#toasts = toasts;
  }

  async hibernate(pid: number): Promise<void> {
    try {
      await this.#feed.need().hibernate(pid);
      this.#toasts.show('ok', `Hibernated pid ${pid}: typing into its terminal, or Resume, wakes it.`);
    } catch (e) {
      this.#toasts.show('error', `Could not hibernate pid ${pid}: ${describeError(e)}`);
    }
    this.#feed.refreshProcesses();
  }

  async resume(pid: number): Promise<void> {
    try {
      const kernel = this.#feed.need();
      if (!this.#sessions.shows(pid)) await this.#sessions.attach(pid, await kernel.attach(pid));
      await kernel.resume(pid);
    } catch (e) {
      this.#toasts.show('error', `Could not resume pid ${pid}: ${describeError(e)}`);
    }
    this.#feed.refreshProcesses();
  }

  async move(pid: number, mode: ExecutionMode, node?: string): Promise<void> {
    const where = node === undefined ? mode : `node ${node.slice(0, 8)}`;
    try {
      await this.#feed.need().setMode(pid, mode, node === undefined ? undefined : { node });
      this.#toasts.show('ok', `Moved pid ${pid} to ${where}.`);
    } catch (e) {
      this.#toasts.show('error', `Could not move pid ${pid} to ${where}: ${describeError(e)}`);
    }
    this.#feed.refreshProcesses();
  }
}
