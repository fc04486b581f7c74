// A tenant's event feed as a client sees it: `GET /api/v1/events/stream` from the start,
// reconnected with `Last-Event-ID` whenever the gateway dies, recording each job event's `seq`
// in arrival order.
import { sleep } from './random.js';

export interface FeedEvent {
  position: number;
  id: string;
  type: string;
  jobId: string | undefined;
  seq: number | undefined;
  /** Which connection (1, 2, …) brought it: with `resumedAfter`, how a reorder came about. */
  connection: number;
}

export class FeedReader {
  readonly events: FeedEvent[] = [];
  reconnects = 0;
  /** Why each stream ended (`ended`, `status 429`, `error: …`), counted: what the reconnects were. */
  readonly endings = new Map<string, number>();
  lastPosition = 0;
  /** The Last-Event-ID each connection sent (index = connection - 1; 0 = none). */
  readonly resumedAfter: number[] = [];
  private stopped = false;
  private controller: AbortController | undefined;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly gateway: string,
    private readonly token: string,
  ) {}

  start(): void {
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.controller?.abort();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      this.controller = new AbortController();
      this.resumedAfter.push(this.lastPosition);
      try {
        const response = await fetch(`${this.gateway}/api/v1/events/stream?after=0`, {
          headers: {
            authorization: `Bearer ${this.token}`,
            accept: 'text/event-stream',
            ...(this.lastPosition > 0 ? { 'last-event-id': String(this.lastPosition) } : {}),
          },
          signal: this.controller.signal,
        });
        if (response.status === 200 && response.body) {
          await this.read(response.body);
          this.ended('ended');
        } else {
          await response.body?.cancel();
          this.ended(`status ${response.status}`);
        }
      } catch (error) {
        // The gateway died or restarts: reconnect below.
        const cause = (error as { cause?: { code?: string } }).cause?.code;
        this.ended(`error: ${cause ?? (error as Error).message}`);
      }
      if (this.stopped) return;
      this.reconnects += 1;
      await sleep(300);
    }
  }

  private ended(why: string): void {
    if (!this.stopped) this.endings.set(why, (this.endings.get(why) ?? 0) + 1);
  }

  private async read(body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of body) {
      buffer += decoder.decode(chunk, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        this.onBlock(block);
      }
    }
  }

  private onBlock(block: string): void {
    let id: string | undefined;
    let data = '';
    for (const line of block.split('\n')) {
      if (line.startsWith('id: ')) id = line.slice(4);
      else if (line.startsWith('data: ')) data += line.slice(6);
    }
    if (id === undefined || !data) return;
    const position = Number(id);
    const envelope = JSON.parse(data) as {
      id: string;
      type: string;
      subject?: string;
      seq?: number;
    };
    // The last id received, not the highest: positions do not follow commit order, so resuming
    // after the highest one seen would skip an event that committed later with a lower position.
    this.lastPosition = position;
    this.events.push({
      position,
      id: envelope.id,
      type: envelope.type,
      jobId: envelope.subject?.startsWith('jobs/') ? envelope.subject.slice(5) : undefined,
      seq: envelope.seq,
      connection: this.resumedAfter.length,
    });
  }
}
