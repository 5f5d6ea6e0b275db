/**
 * Keeping the keyboard inside a modal dialog. `showModal()` makes the page behind it inert, but
 * Tab past the last control still leaves for the browser's own UI (or the document); this wraps it.
 */

const FOCUSABLE = 'button, input, select, textarea, a[href], [tabindex]:not([tabindex="-1"])';

/** On Tab from the last control of `container`, focuses its first; on Shift+Tab from the first, its last. */
export function wrapTab(container: HTMLElement, e: KeyboardEvent): void {
  if (e.key !== 'Tab' || e.altKey || e.ctrlKey || e.metaKey) return;
  const controls = [...container.querySelectorAll<HTMLElement>(FOCUSABLE)].filter(
    (el) => !(el as HTMLInputElement).disabled && el.checkVisibility(),
  );
  const first = controls[0];
  const last = controls[controls.length - 1];
  if (first === undefined || last === undefined) return;
  const active = document.activeElement;
  const inside = active instanceof HTMLElement && container.contains(active);
  if (e.shiftKey && (active === first || !inside)) {
    e.preventDefault();
    last.focus();
  } else if (!e.shiftKey && (active === last || !inside)) {
    e.preventDefault();
    first.focus();
  }
}
