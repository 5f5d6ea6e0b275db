/**
 * The desktop's terminal windows: running a module or a pipeline opens one and gives it the
 * keyboard; closing one moves focus to a neighbour and kills what still runs in it.
 */
import type { ReactiveControllerHost } from 'lit';
import { isKernelError, type ExecutionMode, type Process } from '../kernel';
import type { CommandStage } from './command-line';
import { allowChanges, FOLDER_MOUNT, pickFolder } from './folder-picker';
import { describeError } from './format';
import type { KernelFeed } from './kernel-feed';
import type { Session, TerminalWindow } from './terminal-window';
import { rememberedFolders, rememberFolder } from './remembered-folders';
import type { Toasts } from './toasts';

/** Owned by the desktop; `sessions` are the terminal windows it shows, oldest first. */
export class TerminalSessions {
  /** One per open terminal window. */
  sessions: Session[] = [];

  readonly #host: ReactiveControllerHost & HTMLElement;
  readonly #feed: KernelFeed;
  readonly #toasts: Toasts;
  /** The folder each module gets at /data when it runs, as the person picked it (remembered across reloads). */
  readonly #folders = new Map<string, FileSystemDirectoryHandle>();

  /** `host` is the element the terminal windows render into. */
  constructor(host: ReactiveControllerHost & HTMLElement, feed: KernelFeed, toasts: Toasts) {
    this.#host = host;
    this.#feed = feed;
    this.#toasts = toasts;
    void rememberedFolders().then((known) => {
      for (const [m, h] of known) if (!this.#folders.has(m)) this.#folders.set(m, h);
      if (known.size > 0) host.requestUpdate();
    });
  }

  /** The name of the folder each module gets at /data, by module. */
  folderNames(): ReadonlyMap<string, string> {
    return new Map([...this.#folders].map(([m, h]) => [m, h.name]));
  }

  /** Asks the person for a folder to mount at /data for `name`'s runs (`drop`: mount none again). */
  async mountFolder(name: string, drop: boolean): Promise<void> {
    try {
      const handle = drop ? undefined : await pickFolder();
      if (handle !== undefined) this.#folders.set(name, handle);
      else if (drop) this.#folders.delete(name);
      else return;
      await rememberFolder(name, handle).catch((e: unknown) => this.#toasts.show('error', `The folder for ${name} will not be remembered after a reload: ${describeError(e)}`));
      this.#toasts.show('ok', handle !== undefined ? `${name} gets the folder ${handle.name} at ${FOLDER_MOUNT} when it runs.` : `${name} runs without a folder.`);
      this.#host.requestUpdate();
    } catch (e) {
      this.#toasts.show('error', `Could not mount a folder for ${name}: ${describeError(e)}`);
    }
  }

  /** Spawns `name` with a terminal (in `mode`, default a worker) and opens its window. */
  async run(name: string, args: string[], mode?: ExecutionMode, node?: string): Promise<void> {
    try {
      // A folder the person picked for it (Mount a folder…) is at /data, whatever the module asks;
      // one remembered from an earlier visit needs their permission again, asked within this click.
      const folder = this.#folders.get(name);
      if (folder !== undefined) await allowChanges(folder);
      // A module that works with files gets an empty scratch directory at `/` (so `files ls /`
      // lists something), its home at `/home` and a fresh `/tmp`. Where no home can be kept
      // (a module configured for iframe or in-page mode), it runs without one.
      const wantsFiles = this.#feed.modules.find((m) => m.name === name)?.capabilities.includes('files') === true;
      const kernel = this.#feed.need();
      const opts = { args, tty: true, ...(mode !== undefined ? { mode } : {}), ...(node !== undefined ? { node } : {}) };
      const files = { preopens: ['/'], mounts: { '/tmp': 'tmp' as const } };
      const process = folder !== undefined
        ? await kernel.spawn(name, { ...opts, ...files, mounts: { ...files.mounts, ...(wantsFiles ? { '/home': 'home' as const } : {}), [FOLDER_MOUNT]: folder } })
        : !wantsFiles
        ? await kernel.spawn(name, opts)
        : await kernel.spawn(name, { ...opts, ...files, mounts: { ...files.mounts, '/home': 'home' } }).catch((e: unknown) => {
            if (isKernelError(e, 'kernel/unsupported')) return kernel.spawn(name, { ...opts, ...files });
            throw e;
          });
      await this.#open({ pid: process.pid, name, args, process });
    } catch (e) {
      this.#toasts.show('error', `Could not run ${name}: ${describeError(e)}`);
    }
  }

  /** Runs `a | b | c` in one window: typing goes to the first stage, every stage's errors show. */
  async runPipeline(stages: CommandStage[], line: string): Promise<void> {
    try {
      const procs = await this.#feed.need().pipeline(stages.map((s) => ({ name: s.name, args: s.args })));
      const [first] = procs;
      const head = stages[0];
      if (first === undefined || head === undefined) return;
      const pipeline = { line, stages: procs.map((process, i) => ({ name: stages[i]?.name ?? '', process })) };
      await this.#open({ pid: first.pid, name: head.name, args: head.args, process: first, pipeline });
    } catch (e) {
      this.#toasts.show('error', `Could not run ${line}: ${describeError(e)}`);
    }
  }

  /** Whether a terminal window shows process `pid`. */
  shows(pid: number): boolean {
    return this.sessions.some((s) => s.pid === pid || s.pipeline?.stages.some((st) => st.process.pid === pid) === true);
  }

  /** Opens a terminal window on a process the shell did not start (one attached to after a reload). */
  async attach(pid: number, process: Process): Promise<void> {
    const row = this.#feed.processes.find((p) => p.pid === pid);
    await this.#open({ pid, name: row?.name ?? '', args: row?.args.slice(1) ?? [], process });
  }

  /** Kills a process; a failure becomes a message. */
  async kill(pid: number): Promise<void> {
    try {
      await this.#feed.kernel?.kill(pid);
    } catch (e) {
      this.#toasts.show('error', `Could not kill pid ${pid}: ${describeError(e)}`);
    }
  }

  /**
   * Starts a process again (`kernel.restart`). One that was still running keeps its window;
   * one that had ended comes back with new streams, so its window is opened afresh.
   */
  async restart(pid: number): Promise<void> {
    try {
      const process = await this.#feed.need().restart(pid);
      const old = this.sessions.find((s) => s.pid === pid);
      if (old?.process === process) return;
      const row = this.#feed.processes.find((p) => p.pid === pid);
      const name = old?.name ?? row?.name ?? '';
      const args = old?.args ?? row?.args.slice(1) ?? [];
      // A new window element: a terminal follows the streams it was first given.
      this.sessions = this.sessions.filter((s) => s.pid !== pid);
      this.#host.requestUpdate();
      await this.#host.updateComplete;
      await this.#open({ pid, name, args, process });
    } catch (e) {
      this.#toasts.show('error', `Could not restart pid ${pid}: ${describeError(e)}`);
    }
  }

  /** Closes the window keyed `pid` and kills every process of it that still runs. */
  async close(pid: number): Promise<void> {
    const index = this.sessions.findIndex((s) => s.pid === pid);
    const session = this.sessions[index];
    if (session === undefined) return;
    const pids = session.pipeline?.stages.map((s) => s.process.pid) ?? [pid];
    const running = pids.filter((p) => this.#feed.processes.find((x) => x.pid === p)?.state !== 'exited');
    this.sessions = this.sessions.filter((s) => s.pid !== pid);
    this.#host.requestUpdate();
    await this.#host.updateComplete;
    // Keep keyboard focus nearby: the next window, or the section heading.
    const next = this.sessions[Math.min(index, this.sessions.length - 1)];
    if (next !== undefined) this.#window(next.pid)?.focusTerminal();
    else this.#host.querySelector<HTMLElement>('#terminals-heading')?.focus();
    await Promise.all(running.map((p) => this.kill(p)));
  }

  /** Adds a terminal window for `session`, shows it and gives it the keyboard. */
  async #open(session: Session): Promise<void> {
    this.sessions = [...this.sessions, session];
    this.#host.requestUpdate();
    this.#feed.refreshProcesses();
    await this.#host.updateComplete;
    const win = this.#window(session.pid);
    if (win !== undefined) {
      await win.updateComplete;
      win.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
      win.focusTerminal();
    }
  }

  #window(pid: number): TerminalWindow | undefined {
    return [...this.#host.querySelectorAll('webmk-terminal')].find((w) => w.session?.pid === pid);
  }
}
