/**
 * Entry of the file server (ADR 0025): one worker per page, started with the first process that
 * has a home, serving each such process's channel until the page closes it. Its event loop is
 * free (no module code runs here), so it awaits OPFS while the process it serves is blocked.
 */
import { FILE_PROTOCOL, FromFileServer, ToFileServer, parseToFileServer, serveFileChannel, type FromFileServerMessage } from '../ipc';
import { Home, sweepSwaps } from './handles';
import { Session } from './session';

interface ServerScope {
  postMessage(message: FromFileServerMessage): void;
  onmessage: ((e: MessageEvent<unknown>) => void) | null;
}
const scope = globalThis as unknown as ServerScope;
const homes = new Map<string, Home>();
/** Each serving, by the page's id: its session and the end of its serving. */
const sessions = new Map<number, { session: Session; served: Promise<void> }>();

void sweepSwaps().catch(() => {});

scope.onmessage = (e) => {
  const msg = parseToFileServer(e.data);
  if (msg === null) return;
  const id = msg.id;
  if (msg.type === ToFileServer.detach) {
    const s = sessions.get(id);
    sessions.delete(id);
    s?.session.end();
    // Once its serving has stopped, nothing here touches the channel: the page may give it to another process.
    void s?.served.then(() => scope.postMessage({ v: FILE_PROTOCOL, type: FromFileServer.released, id }));
    return;
  }
  let home = homes.get(msg.module);
  if (home === undefined) homes.set(msg.module, (home = new Home(msg.module)));
  const session = new Session(home, (path) => scope.postMessage({ v: FILE_PROTOCOL, type: FromFileServer.nospace, pid: msg.pid, path }));
  const served = serveFileChannel(msg.channel, (r) => session.handle(r)).finally(() => session.end());
  sessions.set(id, { session, served });
};
