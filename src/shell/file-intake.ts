/**
 * Files arriving from outside the page: dragged over and dropped anywhere on the window, or
 * chosen with the header's file picker (`#install-input`). Either way they go to one callback.
 */
import type { ReactiveController, ReactiveControllerHost } from 'lit';

/** Owned by the desktop; `dragging` says whether the drop overlay shows. */
export class FileIntake implements ReactiveController {
  /** Whether files are being dragged over the page. */
  dragging = false;

  readonly #host: ReactiveControllerHost & HTMLElement;
  readonly #take: (files: File[]) => Promise<void>;
  /** dragenter and dragleave come in pairs for every element crossed; this counts how deep we are. */
  #depth = 0;
  #detach = new AbortController();

  /** `take` receives the files; `host` holds the header's file input. */
  constructor(host: ReactiveControllerHost & HTMLElement, take: (files: File[]) => Promise<void>) {
    this.#host = host;
    this.#take = take;
    host.addController(this);
  }

  hostConnected(): void {
    this.#detach = new AbortController();
    const opts = { signal: this.#detach.signal };
    window.addEventListener('dragenter', (e) => this.#onDrag(e, 1), opts);
    window.addEventListener('dragover', (e) => this.#onDrag(e, 0), opts);
    window.addEventListener('dragleave', (e) => this.#onDrag(e, -1), opts);
    window.addEventListener('drop', (e) => this.#onDrop(e), opts);
  }

  hostDisconnected(): void {
    this.#detach.abort();
  }

  /** Opens the file picker. */
  pick = (): void => {
    this.#host.querySelector<HTMLInputElement>('#install-input')?.click();
  };

  /** Takes what was chosen in the file picker, and clears it so the same file can be chosen again. */
  picked = (e: Event): void => {
    const input = e.target as HTMLInputElement;
    const files = [...(input.files ?? [])];
    input.value = '';
    void this.#take(files);
  };

  #onDrag(e: DragEvent, step: number): void {
    if (!e.dataTransfer?.types.includes('Files')) return;
    e.preventDefault();
    if (e.type === 'dragover') e.dataTransfer.dropEffect = 'copy';
    this.#depth = Math.max(0, this.#depth + step);
    this.#setDragging(e.type === 'dragleave' ? this.#depth > 0 : true);
  }

  #onDrop(e: DragEvent): void {
    this.#depth = 0;
    this.#setDragging(false);
    const files = [...(e.dataTransfer?.files ?? [])];
    if (files.length === 0) return;
    e.preventDefault();
    void this.#take(files);
  }

  /** dragover fires many times a second: re-render only when the overlay shows or hides. */
  #setDragging(dragging: boolean): void {
    if (this.dragging === dragging) return;
    this.dragging = dragging;
    this.#host.requestUpdate();
  }
}
