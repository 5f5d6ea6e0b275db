/** What the bus view shows of topics: who publishes, how fast, the last messages. */
import type { Frame } from '../ipc';

/** One topic as seen while watching. */
export interface TopicStats {
  topic: string;
  messages: number;
  /** Messages per second over the last few seconds. */
  rate: number;
  publishers: string[];
  /** The newest messages first, as text (cut to 80 characters) or a byte count. */
  last: string[];
}

const KEEP = 5;
const WINDOW_MS = 5000;

interface Seen {
  messages: number;
  publishers: Set<number>;
  last: string[];
  times: number[];
}

const dec = new TextDecoder('utf-8', { fatal: true });

function preview(data: Uint8Array): string {
  try {
    const text = dec.decode(data);
    if (/^[\P{C}\n\t]*$/u.test(text)) return text.length > 80 ? `${text.slice(0, 79)}…` : text;
  } catch {
    // binary
  }
  return `(${data.length} bytes)`;
}

export class TopicMonitor {
  private readonly topics = new Map<string, Seen>();

  record(f: Frame): void {
    let t = this.topics.get(f.topic);
    if (t === undefined) {
      if (this.topics.size >= 256) return; // the view shows a bounded set
      t = { messages: 0, publishers: new Set(), last: [], times: [] };
      this.topics.set(f.topic, t);
    }
    t.messages++;
    t.publishers.add(f.pid);
    t.last.unshift(preview(f.data));
    if (t.last.length > KEEP) t.last.pop();
    const now = performance.now();
    t.times.push(now);
    while (t.times.length > 0 && (t.times[0] as number) < now - WINDOW_MS) t.times.shift();
    if (t.times.length > 10_000) t.times.splice(0, t.times.length - 10_000);
  }

  stats(nameOf: (pid: number) => string): TopicStats[] {
    const now = performance.now();
    return [...this.topics.entries()]
      .map(([topic, t]) => {
        const recent = t.times.filter((x) => x >= now - WINDOW_MS);
        return {
          topic,
          messages: t.messages,
          rate: recent.length / (WINDOW_MS / 1000),
          publishers: [...t.publishers].map(nameOf),
          last: [...t.last],
        };
      })
      .sort((a, b) => a.topic.localeCompare(b.topic));
  }
}
