/**
 * The desktop's view of the bus and of refused attempts: while the bus view is open it asks the
 * kernel to record topics (`bus.watch(true)`) and reads the statistics on every change and once
 * a second; refused attempts become a few coalesced messages, never one per attempt.
 */
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { BusStats } from '../bus';
import { describePermission, type DeniedAttempt, type KernelApi } from '../kernel';
import { describeError } from './format';
import type { Toasts } from './toasts';

/** How long refusals gather before one message tells of them all. */
const GATHER_MS = 400;
/** A refusal already told of is not told again within this time (the bus view lists them all). */
const QUIET_MS = 15_000;
const REFRESH_MS = 1000;

/** Owned by the desktop; `stats` and `denied` are what the bus view shows. */
export class BusWatch implements ReactiveController {
  open = false;
  stats: BusStats | undefined;
  /** Refused attempts, newest first. */
  denied: DeniedAttempt[] = [];

  readonly #host: ReactiveControllerHost;
  readonly #toasts: Toasts;
  #kernel: KernelApi | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;
  /** Whether this view turned recording on (a page script may have done so before). */
  #recording = false;
  #seen = new Set<string>();
  #pending = new Map<string, { name: string; permission: string; count: number }>();
  #gather: ReturnType<typeof setTimeout> | undefined;
  #told = new Map<string, number>();

  constructor(host: ReactiveControllerHost, toasts: Toasts) {
    this.#host = host;
    this.#toasts = toasts;
    host.addController(this);
  }

  hostDisconnected(): void {
    this.#stop();
    if (this.#gather !== undefined) clearTimeout(this.#gather);
    this.#gather = undefined;
  }

  hostConnected(): void {
    if (this.open) this.#start();
  }

  /** Follows `kernel`'s events; returns the function that stops. Attempts made before are not announced. */
  attach(kernel: KernelApi): () => void {
    this.#kernel = kernel;
    this.#seen = new Set(kernel.denied().map(key));
    this.#readDenied(false);
    const onDenied = () => {
      this.#readDenied(true);
      this.#refresh();
    };
    const onChange = () => this.#refresh();
    kernel.addEventListener('denied', onDenied);
    kernel.addEventListener('bus', onChange);
    kernel.addEventListener('processes', onChange);
    if (this.open) this.#start();
    return () => {
      kernel.removeEventListener('denied', onDenied);
      kernel.removeEventListener('bus', onChange);
      kernel.removeEventListener('processes', onChange);
      this.#stop();
      this.#kernel = undefined;
    };
  }

  /** Opens or closes the view: the kernel records topics only while it is open. */
  setOpen(open: boolean): void {
    if (open === this.open) return;
    this.open = open;
    if (open) this.#start();
    else this.#stop();
    this.#host.requestUpdate();
  }

  /** Declares `pattern` a global topic; a bad pattern is reported, not thrown. */
  declareGlobal(pattern: string): void {
    try {
      this.#kernel?.bus.declareGlobal(pattern);
      this.#toasts.show('ok', `Messages on ${pattern} now reach this app in other tabs too.`);
    } catch (e) {
      this.#toasts.show('error', `Could not declare ${pattern} global: ${describeError(e)}`);
    }
    this.#refresh();
  }

  #start(): void {
    const kernel = this.#kernel;
    if (kernel === undefined) return;
    if (!this.#recording && !kernel.bus.stats().watching) {
      kernel.bus.watch(true);
      this.#recording = true;
    }
    this.#refresh();
    this.#timer ??= setInterval(() => this.#refresh(), REFRESH_MS);
  }

  #stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    if (this.#recording) this.#kernel?.bus.watch(false);
    this.#recording = false;
    this.stats = undefined;
  }

  #refresh(): void {
    if (!this.open || this.#kernel === undefined) return;
    this.stats = this.#kernel.bus.stats();
    this.#host.requestUpdate();
  }

  #readDenied(announce: boolean): void {
    if (this.#kernel === undefined) return;
    const all = this.#kernel.denied();
    const fresh = all.filter((d) => !this.#seen.has(key(d)));
    this.#seen = new Set(all.map(key));
    this.denied = all.reverse();
    this.#host.requestUpdate();
    if (!announce || fresh.length === 0) return;
    for (const d of fresh) {
      const k = `${d.name}\u0000${d.permission}`;
      const p = this.#pending.get(k);
      if (p === undefined) this.#pending.set(k, { name: d.name, permission: d.permission, count: 1 });
      else p.count += 1;
    }
    this.#gather ??= setTimeout(() => this.#announce(), GATHER_MS);
  }

  /** One message for everything refused since the last one (what was just told is left out). */
  #announce(): void {
    this.#gather = undefined;
    const now = Date.now();
    const groups = [...this.#pending.entries()].filter(([k]) => now - (this.#told.get(k) ?? -Infinity) > QUIET_MS);
    this.#pending.clear();
    for (const [k] of groups) this.#told.set(k, now);
    const [first, ...more] = groups.map(([, g]) => g);
    if (first === undefined) return;
    const times = first.count > 1 ? ` (${first.count} times)` : '';
    const rest = more.length > 0 ? ` ${more.length} more ${more.length === 1 ? 'refusal is' : 'refusals are'} listed under Bus.` : '';
    this.#toasts.show('info', `${first.name} was refused: ${describePermission(first.permission)}${times}.${rest}`);
  }
}

function key(d: DeniedAttempt): string {
  return `${d.pid}\u0000${d.permission}\u0000${d.at}`;
}
