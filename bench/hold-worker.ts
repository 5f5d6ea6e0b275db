/**
 * The raw baseline of the wall figure: a worker that instantiates the module it is sent (every
 * import a stub) and keeps the instance, so its memory stays reserved, as a parked process's does.
 */
export {};

interface WorkerScope {
  postMessage(message: string): void;
  onmessage: ((e: MessageEvent<WebAssembly.Module>) => void) | null;
}
const scope = globalThis as unknown as WorkerScope & { kept?: WebAssembly.Instance };

scope.onmessage = (e) => {
  const module = e.data;
  const imports: Record<string, Record<string, () => number>> = {};
  for (const i of WebAssembly.Module.imports(module)) if (i.kind === 'function') (imports[i.module] ??= {})[i.name] = () => 0;
  try {
    scope.kept = new WebAssembly.Instance(module, imports);
    scope.postMessage('ok');
  } catch (err) {
    scope.postMessage(err instanceof Error ? err.message : String(err));
  }
};
