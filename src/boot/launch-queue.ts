/**
 * Files opened with the installed app (the manifest's `file_handlers`) arrive through
 * `window.launchQueue`; each one is handed to `install`.
 */

interface LaunchParams {
  readonly files: readonly FileSystemHandle[];
}

interface LaunchQueue {
  setConsumer(consumer: (params: LaunchParams) => void): void;
}

/** One launched file that could not be read or installed. */
export class LaunchError extends Error {
  constructor(
    readonly fileName: string,
    override readonly cause: unknown,
  ) {
    super(`could not open ${fileName}: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'LaunchError';
  }
}

/**
 * If the browser has a launch queue, installs every launched file with `install`, one at a
 * time. A failure is passed to `onError` (default: `reportError`, which logs it and fires the
 * window's `error` event) and does not stop the other files.
 */
export function consumeLaunchQueue(
  install: (file: File) => Promise<unknown>,
  onError: (error: LaunchError) => void = reportError,
): void {
  const queue = (globalThis as { launchQueue?: LaunchQueue }).launchQueue;
  if (queue === undefined) return;
  let pending = Promise.resolve();
  queue.setConsumer((params) => {
    // Launches are installed in arrival order, even when a second launch comes mid-install.
    pending = pending.then(() => installAll(params.files, install, onError)).catch(reportError);
  });
}

async function installAll(
  handles: readonly FileSystemHandle[],
  install: (file: File) => Promise<unknown>,
  onError: (error: LaunchError) => void,
): Promise<void> {
  for (const handle of handles) {
    try {
      if (handle.kind !== 'file') throw new Error('a folder cannot be installed');
      await install(await (handle as FileSystemFileHandle).getFile());
    } catch (error) {
      onError(new LaunchError(handle.name, error));
    }
  }
}
