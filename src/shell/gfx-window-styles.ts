/**
 * The module windows' rules. The shell renders into the light DOM, so they go to the document
 * once, as an adopted style sheet, rather than into a shadow root.
 */
import { css, unsafeCSS, type CSSResult } from 'lit';
import { TITLE_HEIGHT } from './window-geometry';

const STYLES: CSSResult = css`
  webmk-gfx-layer {
    position: fixed;
    inset: 0;
    z-index: 10;
    pointer-events: none;
  }
  webmk-gfx-window {
    position: absolute;
    pointer-events: auto;
    display: block;
  }
  webmk-gfx-window .gfx-window {
    display: flex;
    flex-direction: column;
    width: 100%;
    height: 100%;
    /* A ring, not a border: the content area is exactly what window-geometry.ts computes. */
    border-radius: 8px;
    overflow: hidden;
    background: #000;
    box-shadow: 0 0 0 1px var(--border, #2a3039), 0 10px 30px rgb(0 0 0 / 0.35);
  }
  webmk-gfx-window .gfx-window:focus-within {
    box-shadow: 0 0 0 2px var(--focus, #8db4ff), 0 10px 30px rgb(0 0 0 / 0.35);
  }
  webmk-gfx-window .gfx-bar {
    flex: none;
    box-sizing: border-box;
    height: ${unsafeCSS(TITLE_HEIGHT)}px;
    display: flex;
    align-items: center;
    gap: 0.5rem;
    padding: 0 0.25rem 0 0.7rem;
    background: var(--surface-2, #1d222a);
    border-bottom: 1px solid var(--border, #2a3039);
    font-size: 0.85rem;
    cursor: move;
    user-select: none;
    touch-action: none;
  }
  webmk-gfx-window .gfx-bar:focus-visible {
    outline: 2px solid var(--focus, #8db4ff);
    outline-offset: -2px;
  }
  webmk-gfx-window .gfx-title {
    font-family: var(--mono, monospace);
    font-weight: 650;
    white-space: nowrap;
  }
  webmk-gfx-window .gfx-meta {
    flex: 1;
    min-width: 0;
    overflow: hidden;
    text-overflow: ellipsis;
    white-space: nowrap;
    color: var(--muted, #98a2ae);
  }
  webmk-gfx-window .gfx-asleep {
    font-style: italic;
  }
  webmk-gfx-window .gfx-bar button.close {
    cursor: pointer;
  }
  webmk-gfx-window .gfx-body {
    flex: 1;
    min-height: 0;
    position: relative;
  }
  webmk-gfx-window canvas.gfx-canvas {
    display: block;
    width: 100%;
    height: 100%;
    object-fit: contain;
    touch-action: none;
    outline: none;
    cursor: crosshair;
  }
  webmk-gfx-window canvas.gfx-canvas.crisp {
    image-rendering: pixelated;
  }
  webmk-gfx-window .gfx-grip {
    position: absolute;
    right: 0;
    bottom: 0;
    width: 18px;
    height: 18px;
    cursor: nwse-resize;
    touch-action: none;
    background: linear-gradient(135deg, transparent 50%, rgb(255 255 255 / 0.45) 50% 60%, transparent 60% 70%, rgb(255 255 255 / 0.45) 70% 80%, transparent 80%);
  }
`;

let adopted = false;
/** Adds the windows' rules to the document, once; the layer calls it when it enters the page. */
export function adoptGfxStyles(): void {
  if (adopted || STYLES.styleSheet === undefined) return;
  adopted = true;
  document.adoptedStyleSheets = [...document.adoptedStyleSheets, STYLES.styleSheet];
}
