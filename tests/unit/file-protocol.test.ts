/**
 * The file server's wire (ADR 0025): what the page and the server send each other is parsed as
 * unknown, and anything forged or malformed is dropped, never trusted.
 */
import { describe, expect, it } from 'vitest';
import { FILE_PROTOCOL, allocateFileChannel, isFileChannel, parseFromFileServer, parseToFileServer } from '../../src/ipc';

describe('file server protocol', () => {
  it('parses an attach and a detach, and nothing else', () => {
    const channel = allocateFileChannel();
    expect(parseToFileServer({ v: FILE_PROTOCOL, type: 'attach', id: 1, pid: 3, module: 'files', channel })).toEqual({ v: FILE_PROTOCOL, type: 'attach', id: 1, pid: 3, module: 'files', channel });
    expect(parseToFileServer({ v: FILE_PROTOCOL, type: 'detach', id: 1, channel, extra: 1 })).toEqual({ v: FILE_PROTOCOL, type: 'detach', id: 1 });
    for (const bad of [
      null,
      7,
      'attach',
      {},
      { v: 2, type: 'detach', id: 1 },
      { v: FILE_PROTOCOL, type: 'detach', id: '1' },
      { v: FILE_PROTOCOL, type: 'attach', pid: 3, module: 'm', channel },
      { v: FILE_PROTOCOL, type: 'attach', id: 1, pid: 3, channel },
      { v: FILE_PROTOCOL, type: 'attach', id: 1, pid: '3', module: 'm', channel },
      { v: FILE_PROTOCOL, type: 'attach', id: 1, pid: 3, module: 'm', channel: new ArrayBuffer(8) },
      { v: FILE_PROTOCOL, type: '__proto__', id: 1, channel },
    ]) {
      expect(parseToFileServer(bad)).toBeNull();
    }
  });

  it('parses a nospace notice and a released channel, and nothing else', () => {
    expect(parseFromFileServer({ v: FILE_PROTOCOL, type: 'nospace', pid: 4, path: 'a/b.txt' })).toEqual({ v: FILE_PROTOCOL, type: 'nospace', pid: 4, path: 'a/b.txt' });
    expect(parseFromFileServer({ v: FILE_PROTOCOL, type: 'released', id: 2, pid: 9 })).toEqual({ v: FILE_PROTOCOL, type: 'released', id: 2 });
    for (const bad of [undefined, { v: FILE_PROTOCOL, type: 'nospace', pid: 4 }, { v: FILE_PROTOCOL, type: 'nospace', pid: 'x', path: 'p' }, { v: 0, type: 'nospace', pid: 4, path: 'p' }, { v: FILE_PROTOCOL, type: 'released' }, { v: FILE_PROTOCOL, type: 'released', id: '2' }]) {
      expect(parseFromFileServer(bad)).toBeNull();
    }
  });

  it('knows a channel by its size: a start message cannot pass any shared buffer as one', () => {
    expect(isFileChannel(allocateFileChannel())).toBe(true);
    expect(isFileChannel(new SharedArrayBuffer(64))).toBe(false);
    expect(isFileChannel(new ArrayBuffer(allocateFileChannel().byteLength))).toBe(false);
  });
});
