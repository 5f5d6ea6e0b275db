/**
 * What crosses to and from the file server (ADR 0025): the page attaches a process's channel to
 * a module's home and closes it at the process's end; the server tells the page of a write a full
 * disk refused, and that it has let go of a channel (the page may then hand it to another
 * process). On the channel, a process asks one of FileOp and gets a FileReply.
 */

export const FILE_PROTOCOL = 1;

/** Page to server. */
export const ToFileServer = { attach: 'attach', detach: 'detach' } as const;
/** Server to page. */
export const FromFileServer = { nospace: 'nospace', released: 'released' } as const;

/**
 * Serve `channel` for process `pid`, in the home of `module`. `id` names this serving in the
 * messages that follow: a shared buffer posted twice arrives as two different objects.
 */
export interface AttachMessage {
  v: typeof FILE_PROTOCOL;
  type: typeof ToFileServer.attach;
  id: number;
  pid: number;
  module: string;
  channel: SharedArrayBuffer;
}

/** The process of serving `id` has ended: let go of its handles (its unsaved writes are dropped). */
export interface DetachMessage {
  v: typeof FILE_PROTOCOL;
  type: typeof ToFileServer.detach;
  id: number;
}

/** A write of process `pid` to `path` of its home was refused for want of room. */
export interface NoSpaceMessage {
  v: typeof FILE_PROTOCOL;
  type: typeof FromFileServer.nospace;
  pid: number;
  path: string;
}

/** The server has stopped serving `id` (after its detach) and will not touch its channel again. */
export interface ReleasedMessage {
  v: typeof FILE_PROTOCOL;
  type: typeof FromFileServer.released;
  id: number;
}

export type ToFileServerMessage = AttachMessage | DetachMessage;
export type FromFileServerMessage = NoSpaceMessage | ReleasedMessage;

/** Parses what the page sent the server; null for anything else. */
export function parseToFileServer(x: unknown): ToFileServerMessage | null {
  const m = x as { v?: unknown; type?: unknown; id?: unknown; pid?: unknown; module?: unknown; channel?: unknown } | null;
  if (typeof m !== 'object' || m === null || m.v !== FILE_PROTOCOL || typeof m.id !== 'number') return null;
  if (m.type === ToFileServer.detach) return { v: FILE_PROTOCOL, type: m.type, id: m.id };
  if (m.type === ToFileServer.attach && m.channel instanceof SharedArrayBuffer && typeof m.module === 'string' && typeof m.pid === 'number') {
    return { v: FILE_PROTOCOL, type: m.type, id: m.id, pid: m.pid, module: m.module, channel: m.channel };
  }
  return null;
}

/** Parses what the server sent the page; null for anything else. */
export function parseFromFileServer(x: unknown): FromFileServerMessage | null {
  const m = x as { v?: unknown; type?: unknown; id?: unknown; pid?: unknown; path?: unknown } | null;
  if (typeof m !== 'object' || m === null || m.v !== FILE_PROTOCOL) return null;
  if (m.type === FromFileServer.released) return typeof m.id === 'number' ? { v: FILE_PROTOCOL, type: m.type, id: m.id } : null;
  if (m.type !== FromFileServer.nospace) return null;
  return typeof m.pid === 'number' && typeof m.path === 'string' ? { v: FILE_PROTOCOL, type: m.type, pid: m.pid, path: m.path } : null;
}

/**
 * A request on a process's channel. Paths are relative to the home (`a/b.txt`). `id` names a file
 * opened with `open`, until its `close`.
 */
export type FileOp =
  | { op: 'list'; path: string }
  | { op: 'stat'; path: string }
  | { op: 'open'; path: string; create: boolean; trunc: boolean }
  | { op: 'read'; id: number; at: number; len: number }
  | { op: 'write'; id: number; at: number }
  | { op: 'truncate'; id: number; size: number }
  | { op: 'commit'; id: number }
  | { op: 'close'; id: number }
  | { op: 'mkdir'; path: string }
  | { op: 'remove'; path: string }
  | { op: 'rename'; from: string; to: string };

/** Why a request failed, as the process answers it (an errno). */
export type FileFailure = 'notfound' | 'exists' | 'notdir' | 'isdir' | 'nospace' | 'inval' | 'io' | 'closed';

/** A reply: `value` per op (list: [name, isDir][], stat: { dir, size } | null, open: { id, size }, read/write: n). */
export type FileReply = { ok: true; value?: unknown } | { ok: false; code: FileFailure; message?: string };
