// The webhook receiver: records every delivery's `webhook-id` and the event it carries, and
// misbehaves on purpose (some answers are 500, some never come) so the notifier must retry.
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import type { Random } from './random.js';

export interface Delivery {
  webhookId: string;
  eventId: string;
  type: string;
  answered: number | 'hang';
}

export class WebhookReceiver {
  readonly deliveries: Delivery[] = [];
  /** Requests being answered right now (the notifier is mid-delivery). */
  inFlight = 0;
  private server: Server | undefined;
  private readonly hanging = new Set<ServerResponse>();

  constructor(private readonly random: Random) {}

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      this.inFlight += 1;
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        let eventId = '';
        let type = '';
        try {
          const parsed = JSON.parse(body) as { id?: string; type?: string };
          eventId = parsed.id ?? '';
          type = parsed.type ?? '';
        } catch {
          /* recorded with an empty id: a check names it */
        }
        const webhookId = String(req.headers['webhook-id'] ?? '');
        const roll = this.random.next();
        const answer = roll < 0.1 ? 500 : roll < 0.15 ? 'hang' : 204;
        this.deliveries.push({ webhookId, eventId, type, answered: answer });
        if (answer === 'hang') {
          // Never answered: the notifier's timeout must give up and retry.
          this.hanging.add(res);
          res.on('close', () => {
            this.hanging.delete(res);
            this.inFlight -= 1;
          });
          return;
        }
        const delay = this.random.int(0, 300);
        setTimeout(() => {
          res.writeHead(answer).end();
          this.inFlight -= 1;
        }, delay);
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Event ids answered 2xx at least once. */
  delivered(): Set<string> {
    return new Set(this.deliveries.filter((d) => d.answered === 204).map((d) => d.eventId));
  }

  async stop(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}
