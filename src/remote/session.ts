/**
 * What this kernel does with one link to another node: it owns the link's messages and hands
 * each to the side it is for, the processes this node runs there (caller.ts) or the ones it runs
 * for the other node (serve.ts). When the link ends, both sides learn it at once.
 */
import { KernelError } from '../common';
import { Caller, type CallerDeps } from './caller';
import type { Link, LinkEnd } from './link';
import { parseRemote } from './parse';
import { REMOTE_WIRE_VERSION, RemoteTag, type RemoteMessage, type RemoteUnsent } from './protocol';
import { Server, type ServeDeps } from './serve';

/** Both sides' needs of the kernel around them. */
export type SessionDeps = CallerDeps & ServeDeps;

/** Which side a message is for: the caller's answers, or requests to serve. */
function forCaller(m: RemoteMessage): boolean {
  switch (m.type) {
    case RemoteTag.found:
    case RemoteTag.called:
    case RemoteTag.spawned:
    case RemoteTag.fail:
    case RemoteTag.out:
    case RemoteTag.exit:
    case RemoteTag.busOut:
    case RemoteTag.winOpen:
    case RemoteTag.winFrame:
    case RemoteTag.winClose:
      return true;
    case RemoteTag.credit:
      return m.fd === 0;
    default:
      return false;
  }
}

/** One link's two sides, the caller's and the server's; made by `Remote.attach`. */
export class Session {
  readonly caller: Caller;
  readonly server: Server;
  /** Messages that could not be parsed, and error replies received. */
  malformed = 0;

  constructor(
    readonly link: Link,
    deps: SessionDeps,
  ) {
    const send = (m: RemoteUnsent): void => link.send({ ...m, v: REMOTE_WIRE_VERSION });
    this.caller = new Caller(link, send, deps);
    this.server = new Server(link, send, deps);
    link.onMessage = (data) => this.receive(data);
    void link.ended.then((end: LinkEnd) => {
      this.caller.lost(end.undelivered);
      this.server.lost();
    });
  }

  private receive(data: unknown): void {
    let m: RemoteMessage;
    try {
      m = parseRemote(data);
    } catch (e) {
      this.malformed += 1;
      // An error is never answered with an error: two nodes that cannot parse each other stop there.
      if (typeof data === 'object' && data !== null && (data as Record<string, unknown>).type === RemoteTag.error) return;
      // Answered, not dropped: a sender waiting on it learns why (STYLE.md, Wire protocol).
      const message = e instanceof KernelError ? e.message : String(e);
      try {
        this.link.send({ v: REMOTE_WIRE_VERSION, type: RemoteTag.error, message });
      } catch {
        // The link has ended.
      }
      return;
    }
    if (m.type === RemoteTag.error) {
      this.malformed += 1;
      return;
    }
    if (forCaller(m)) this.caller.receive(m);
    else this.server.receive(m);
  }
}
