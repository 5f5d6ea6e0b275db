/**
 * Entry of the file server (ADR 0025): one worker per page, started with the first process that
 * has a home, serving each such process's channel until the page closes it. Its event loop is
 * free (no module code runs here), so it awaits OPFS while the process it serves is blocked.
 */
import { FILE_PROTOCOL, FromFileServer, ToFileServer, closeFileChannel, parseToFileServer, serveFileChannel, type NoSpaceMessage } from '../ipc';
import { Home, sweepSwaps } from './handles';
import { Session } from './session';

interface ServerScope {
  postMessage(message: NoSpaceMessage): void;
  onmessage: ((e: MessageEvent<unknown>) => void) | null;
}
const scope = globalThis as unknown as ServerScope;
const homes = new Map<string, Home>();
const sessions = new Map<SharedArrayBuffer, Session>();

void sweepSwaps().catch(() => {});

scope.onmessage = (e) => {
  const msg = parseToFileServer(e.data);
  if (msg === null) return;
  if (msg.type === ToFileServer.detach) {
    closeFileChannel(msg.channel);
    sessions.get(msg.channel)?.end();
    sessions.delete(msg.channel);
    return;
  }
  let home = homes.get(msg.module);
  if (home === undefined) homes.set(msg.module, (home = new Home(msg.module)));
  const session = new Session(home, (path) => scope.postMessage({ v: FILE_PROTOCOL, type: FromFileServer.nospace, pid: msg.pid, path }));
  sessions.set(msg.channel, session);
  void serveFileChannel(msg.channel, (r) => session.handle(r)).finally(() => {
    session.end();
    sessions.delete(msg.channel);
  });
};
