/**
 * What crosses to and from the file server (ADR 0025): the page attaches a process's channel to
 * a module's home and closes it at the process's end; the server tells the page of a write a full
 * disk refused. On the channel, a process asks one of FileOp and gets a FileReply.
 */

export const FILE_PROTOCOL = 1;

/** Page to server. */
export const ToFileServer = { attach: 'attach', detach: 'detach' } as const;
/** Server to page. */
export const FromFileServer = { nospace: 'nospace' } as const;

/** Serve `channel` for process `pid`, in the home of `module`. */
export interface AttachMessage {
  v: typeof FILE_PROTOCOL;
  type: typeof ToFileServer.attach;
  pid: number;
  module: string;
  channel: SharedArrayBuffer;
}

/** The process of `channel` has ended: let go of its handles (its unsaved writes are dropped). */
export interface DetachMessage {
  v: typeof FILE_PROTOCOL;
  type: typeof ToFileServer.detach;
  channel: SharedArrayBuffer;
}

/** A write of process `pid` to `path` of its home was refused for want of room. */
export interface NoSpaceMessage {
  v: typeof FILE_PROTOCOL;
  type: typeof FromFileServer.nospace;
  pid: number;
  path: string;
}

export type ToFileServerMessage = AttachMessage | DetachMessage;

/** Parses what the page sent the server; null for anything else. */
export function parseToFileServer(x: unknown): ToFileServerMessage | null {
  const m = x as { v?: unknown; type?: unknown; pid?: unknown; module?: unknown; channel?: unknown } | null;
  if (typeof m !== 'object' || m === null || m.v !== FILE_PROTOCOL || !(m.channel instanceof SharedArrayBuffer)) return null;
  if (m.type === ToFileServer.detach) return { v: FILE_PROTOCOL, type: m.type, channel: m.channel };
  if (m.type === ToFileServer.attach && typeof m.module === 'string' && typeof m.pid === 'number') return { v: FILE_PROTOCOL, type: m.type, pid: m.pid, module: m.module, channel: m.channel };
  return null;
}

/** Parses what the server sent the page; null for anything else. */
export function parseFromFileServer(x: unknown): NoSpaceMessage | null {
  const m = x as Partial<NoSpaceMessage> | null;
  if (typeof m !== 'object' || m === null || m.v !== FILE_PROTOCOL || m.type !== FromFileServer.nospace) return null;
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
