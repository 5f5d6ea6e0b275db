/**
 * The `inpage` execution mode: the process runs on the page's own thread, for trusted modules
 * only (the person grants `run:inpage`). Nothing is copied or posted: its calls go straight to
 * the kernel. The page's thread may not block, so every blocking import suspends the module
 * (JSPI) and its `_start` runs as a promise; the page goes on meanwhile. What the page cannot do
 * is interrupt it: a module computing in a loop holds the page until its next host call. So `kill`
 * ends it at its next call, and its watchdog refuses the first call it makes after computing
 * longer than `watchdogMs`. A service serves its calls here as promises (ADR 0032): a call past
 * its deadline is refused at its next host call or at its return, not interrupted.
 */
import { EXIT_CODES, KernelError, type ProcessExit } from '../../common';
import { FromWorker, ReplyBy, ToWorker, WORKER_PROTOCOL, allocateSyncCall, allocateWatch, markKilled, type FromWorkerMessage, type StartMessage } from '../../ipc';
import type { RunningProcess } from '../../process';
import type { Host, HostResources, HostStart, HostedProcess } from '../types';

export class InpageHost implements Host {
  readonly mode = 'inpage' as const;
  /** Each running process: what ends it, and its JS module's blob: URL, revoked at its end. */
  private readonly live = new Map<() => void, { scriptUrl: string | undefined }>();

  start(req: HostStart): HostedProcess {
    const program = req.program;
    const scriptUrl = program.kind === 'js' ? URL.createObjectURL(new Blob([program.script], { type: 'text/javascript' })) : undefined;
    let running!: () => void;
    let exit!: (e: ProcessExit) => void;
    const runningP = new Promise<void>((ok) => (running = ok));
    const exited = new Promise<ProcessExit>((ok) => (exit = ok));
    // The kill flag the process's glue checks at every host call.
    const syscall = allocateSyncCall();
    let ended = false;
    /** Calls being served: one suspended when the process is ended from outside is answered no more. */
    const serving = new Set<(e: KernelError) => void>();
    /** `own`: the process ended by itself, in the call it serves, which answers for itself. */
    const end = (e: ProcessExit, own = false): void => {
      if (ended) return;
      ended = true;
      if (!own) for (const fail of serving) fail(new KernelError('service/error', `the service ended (${e.reason}${e.message !== undefined ? `: ${e.message}` : ''})`, { reason: e.reason }));
      serving.clear();
      if (scriptUrl !== undefined) URL.revokeObjectURL(scriptUrl);
      markKilled(syscall);
      this.live.delete(stop);
      exit(e);
    };
    const stop = (): void => end({ code: EXIT_CODES.killed, reason: 'killed', message: 'kernel disposed' });
    this.live.set(stop, { scriptUrl });
    const { name: _name, onCall, program: _program, watchdogMs, ...rest } = req;
    const m: StartMessage = {
      v: WORKER_PROTOCOL,
      type: ToWorker.start,
      ...rest,
      ...(program.kind === 'wasm' ? { module: program.module, maxPages: program.maxPages } : { scriptUrl, maxPages: 0 }),
      syscall,
      suspend: true,
      ...(watchdogMs !== undefined ? { watch: allocateWatch(), refuseAfterMs: watchdogMs } : {}),
    };
    let proc: RunningProcess | undefined;
    // Calls go to the kernel directly; a suspending call is answered when it settles.
    const post = (msg: FromWorkerMessage): void => {
      if (msg.type !== FromWorker.call || ended) return;
      const answer = (ok: boolean, value: unknown): void => {
        if (msg.reply === ReplyBy.message && !ended) proc?.settle(msg.id, ok, ok ? value : undefined, ok ? undefined : value);
      };
      onCall(msg.call, msg.args).then(
        (r) => answer(true, r.value),
        (e: unknown) => answer(false, KernelError.from(e instanceof KernelError ? e : { code: 'ipc/malformed', message: String(e) }).toJSON()),
      );
    };
    // The process runtime is loaded when the first module runs on the page, not with the page.
    void import('../../process').then(
      ({ providers, runProcess }) => {
        if (ended) return;
        proc = runProcess(m, providers, post, running);
        void proc.exit.then((e) => end(e, true));
      },
      (e: unknown) => end({ code: EXIT_CODES.failed, reason: 'failed', message: `could not load the process runtime: ${String(e)}` }),
    );
    return {
      running: runningP,
      exited,
      // It stops at its next host call (a module in a loop cannot be interrupted on the page).
      kill: async (e = { code: EXIT_CODES.killed, reason: 'killed', message: 'killed' }) => {
        end(e);
        await exited;
      },
      ...(req.serve === true ? { serve: (fn: string, input: Uint8Array, until?: number) => serveOnPage(ended ? undefined : proc, serving, fn, input, until) } : {}),
    };
  }

  resources(): HostResources {
    const blobUrls = [...this.live.values()].filter((p) => p.scriptUrl !== undefined).length;
    return { processes: this.live.size, busyWorkers: 0, idleWorkers: 0, booting: 0, waiting: 0, frames: 0, ports: 0, blobUrls, timers: 0 };
  }

  dispose(): void {
    for (const stop of [...this.live.keys()]) stop();
  }
}

/** One call of a service on the page: its outcome, or `service/error` if the process ends first. */
function serveOnPage(proc: RunningProcess | undefined, serving: Set<(e: KernelError) => void>, fn: string, input: Uint8Array, until: number | undefined): Promise<Uint8Array> {
  return new Promise<Uint8Array>((ok, fail) => {
    if (proc?.serveAsync === undefined) {
      fail(new KernelError('service/error', 'the service is not running'));
      return;
    }
    serving.add(fail);
    proc.serveAsync(fn, input, until).then(
      (out) => {
        serving.delete(fail);
        if (out.ok) ok(out.output);
        else fail(KernelError.from(out.error));
      },
      (e: unknown) => {
        serving.delete(fail);
        fail(KernelError.from(e instanceof KernelError ? e : { code: 'service/error', message: String(e) }));
      },
    );
  });
}
