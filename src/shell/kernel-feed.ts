/**
 * The desktop's link to the kernel and the boot handle: it follows their events and holds what
 * they last said (the installed modules, the process table with a clock for running times, the
 * examples, whether an update waits), re-rendering the desktop when any of it changes. It also
 * tells the person what started when the app opened, and what could not.
 */
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { AddressSpace, AutostartResult, KernelApi, ModuleInfo, NodeInfo, NoSpace, PackageInfo, ProcessInfo, SlotUse, TrustedKey } from '../kernel';
import { describeError } from './format';
import { loadExamples, type Example } from './examples';
import type { Toasts } from './toasts';
import type { ShellBoot } from './types';

/** The process table is read and drawn at most this often, ms. */
const PROCESS_REFRESH_MS = 100;
/** The nodes (their round trips) are read again this often while there are any, ms. */
const NODES_REFRESH_MS = 2000;

/** Owned by the desktop; its fields are what the desktop's sections show. */
export class KernelFeed implements ReactiveController {
  /** The installed modules, as the registry last listed them. */
  modules: ModuleInfo[] = [];
  /** The installed packages and the trusted keys, read with the modules. */
  packages: PackageInfo[] = [];
  keys: TrustedKey[] = [];
  /** Whether the registry has answered (or failed to) at least once. */
  loaded = false;
  /** The examples that can be installed. */
  examples: Example[] = [];
  /** The process table, as last read. */
  processes: ProcessInfo[] = [];
  slots: Record<AddressSpace, SlotUse> | undefined;
  /** The time running times count to; it ticks each second while a process runs. */
  now = Date.now();
  /** Whether a new version of the app waits. */
  update = false;
  /** The other nodes reachable (`kernel.nodes()`), as last read. */
  nodes: NodeInfo[] = [];
  #nodesTick: ReturnType<typeof setInterval> | undefined;

  readonly #host: ReactiveControllerHost;
  readonly #kernel: () => KernelApi | undefined;
  readonly #toasts: Toasts;
  #tick: ReturnType<typeof setInterval> | undefined;
  /** When the process table was last read, and the timer of a read to come. */
  #refreshedAt = -Infinity;
  #refreshTimer: ReturnType<typeof setTimeout> | undefined;
  /** Kernels whose start-up has been reported (once each, however often the desktop attaches). */
  #reported = new WeakSet<KernelApi>();

  /** `kernel()` is the host's kernel as it is now (undefined until the page sets it). */
  constructor(host: ReactiveControllerHost, kernel: () => KernelApi | undefined, toasts: Toasts) {
    this.#host = host;
    this.#kernel = kernel;
    this.#toasts = toasts;
    host.addController(this);
  }

  hostDisconnected(): void {
    this.#stopTick();
    clearInterval(this.#nodesTick);
    this.#nodesTick = undefined;
    clearTimeout(this.#refreshTimer);
    this.#refreshTimer = undefined;
  }

  /** The host's kernel as it is now, if the page has set it. */
  get kernel(): KernelApi | undefined {
    return this.#kernel();
  }

  /** The host's kernel; throws if the page has not set it yet. */
  need(): KernelApi {
    const kernel = this.#kernel();
    if (kernel === undefined) throw new Error('the kernel is not attached yet');
    return kernel;
  }

  /** Follows `kernel` and `boot` and reads them a first time; returns the function that stops following. */
  attach(kernel: KernelApi, boot: ShellBoot): () => void {
    const detach: (() => void)[] = [];
    const listen = (target: EventTarget, type: string, fn: () => void) => {
      target.addEventListener(type, fn);
      detach.push(() => target.removeEventListener(type, fn));
    };
    listen(kernel, 'modules', () => void this.refreshModules());
    listen(kernel, 'processes', () => this.#processesChanged());
    listen(kernel, 'autostart', () => this.#reportAutostart(kernel));
    const full = (e: Event): void => this.#noSpace((e as CustomEvent<NoSpace>).detail);
    kernel.addEventListener('nospace', full);
    detach.push(() => kernel.removeEventListener('nospace', full));
    listen(kernel, 'nodes', () => this.refreshNodes());
    this.refreshNodes();
    this.#reportAutostart(kernel);
    listen(boot, 'status', () => this.#host.requestUpdate());
    listen(boot, 'update-available', () => {
      this.update = true;
      this.#host.requestUpdate();
    });
    this.update = boot.updateAvailable === true;
    this.#host.requestUpdate();
    void loadExamples().then((ex) => {
      this.examples = ex;
      this.#host.requestUpdate();
    });
    this.refreshProcesses();
    kernel.ready.then(
      () => this.refreshModules(),
      (e: unknown) => {
        this.loaded = true;
        this.#host.requestUpdate();
        this.#toasts.show('error', `The kernel did not start: ${describeError(e)}`);
      },
    );
    return () => {
      for (const off of detach) off();
    };
  }

  /** Reads the registry again. */
  async refreshModules(): Promise<void> {
    const kernel = this.#kernel();
    if (kernel === undefined) return;
    try {
      [this.modules, this.packages, this.keys] = await Promise.all([kernel.modules(), kernel.packages(), kernel.trust.list()]);
    } catch (e) {
      this.#toasts.show('error', `Could not read the registry: ${describeError(e)}`);
    }
    this.loaded = true;
    this.#host.requestUpdate();
  }

  /**
   * The table changed: read it now if it was last read over PROCESS_REFRESH_MS ago, else once
   * that much time has passed. A hundred processes starting at once are a few hundred changes;
   * the table is read and drawn a few times, not once per change.
   */
  #processesChanged(): void {
    if (this.#refreshTimer !== undefined) return;
    const wait = this.#refreshedAt + PROCESS_REFRESH_MS - performance.now();
    if (wait <= 0) return this.refreshProcesses();
    this.#refreshTimer = setTimeout(() => {
      this.#refreshTimer = undefined;
      this.refreshProcesses();
    }, wait);
  }

  /** Reads the process table again, and starts or stops the clock. */
  refreshProcesses(): void {
    this.#refreshedAt = performance.now();
    const kernel = this.#kernel();
    if (kernel === undefined) return;
    this.processes = kernel.processes();
    this.slots = kernel.memorySlots();
    this.now = Date.now();
    this.#host.requestUpdate();
    const running = this.processes.some((p) => p.state !== 'exited');
    if (running && this.#tick === undefined) {
      this.#tick = setInterval(() => {
        this.now = Date.now();
        this.#host.requestUpdate();
      }, 1000);
    } else if (!running) {
      this.#stopTick();
    }
  }

  /** Reads the nodes again; while there are any, again every few seconds (their round trips change). */
  refreshNodes(): void {
    const kernel = this.#kernel();
    if (kernel === undefined) return;
    this.nodes = kernel.nodes();
    this.#host.requestUpdate();
    if (this.nodes.length > 0 && this.#nodesTick === undefined) {
      this.#nodesTick = setInterval(() => this.refreshNodes(), NODES_REFRESH_MS);
    } else if (this.nodes.length === 0 && this.#nodesTick !== undefined) {
      clearInterval(this.#nodesTick);
      this.#nodesTick = undefined;
    }
  }

  /** Once `autostart()` has finished: a message for each module that did not start, one for those that did. */
  /** When each module's full disk was last told, by module and file (one retrying in a loop gets one toast a while). */
  #toldFull = new Map<string, number>();

  /** Tells the person a module could not save a file for want of space, and what to do. */
  #noSpace(d: NoSpace): void {
    const now = Date.now();
    const key = `${d.name} ${d.mount ?? ''} ${d.path}`;
    if (now - (this.#toldFull.get(key) ?? -Infinity) < 10_000) return;
    this.#toldFull.set(key, now);
    const where = d.mount !== undefined ? `${d.mount}/${d.path}` : `${d.path} in its home`;
    this.#toasts.show(
      'error',
      `${d.name} (pid ${d.pid}) could not save ${where}: the storage is full. The module was told (no space left on device) and the file keeps its last good contents. Free some space (delete files in the module's Files view, or other sites' data in the browser's settings), then run it again.`,
    );
  }

  #reportAutostart(kernel: KernelApi): void {
    const results = kernel.autostarted();
    if (results === undefined || results.length === 0 || this.#reported.has(kernel)) return;
    this.#reported.add(kernel);
    const started = results.filter((r): r is Extract<AutostartResult, { status: 'started' }> => r.status === 'started');
    if (started.length > 0) this.#toasts.show('info', `Started at boot: ${started.map((r) => `${r.name} (pid ${r.pid})`).join(', ')}.`);
    for (const r of results) {
      if (r.status === 'failed') this.#toasts.show('error', `Could not start ${r.name} at boot: ${r.code}: ${r.message}`);
    }
  }

  #stopTick(): void {
    if (this.#tick !== undefined) clearInterval(this.#tick);
    this.#tick = undefined;
  }
}
