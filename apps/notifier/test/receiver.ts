import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** What the receiver answers on a path: a status, or a promise that never resolves (hang). */
export type Behaviour = (request: Received, count: number) => number | Promise<number>;

/**
 * A real webhook receiver on 127.0.0.1. Each path has its behaviour; every request is kept,
 * and `next(path, n)` resolves when the n-th request to that path has arrived.
 */
export class Receiver {
  readonly requests: Received[] = [];
  private readonly behaviours = new Map<string, Behaviour>();
  private readonly waiters: { path: string; count: number; resolve: () => void }[] = [];
  private server: Server | undefined;
  url = '';

  on(path: string, behaviour: Behaviour): string {
    this.behaviours.set(path, behaviour);
    return `${this.url}${path}`;
  }

  /** The behaviour set for a path (200 when none). */
  behaviour(path: string): Behaviour {
    return this.behaviours.get(path) ?? (() => 200);
  }

  to(path: string): Received[] {
    return this.requests.filter((request) => request.path === path);
  }

  /** Resolves with the first `count` requests to `path` once they have arrived. */
  async received(path: string, count = 1): Promise<Received[]> {
    if (this.to(path).length < count) {
      await new Promise<void>((resolve) => this.waiters.push({ path, count, resolve }));
    }
    return this.to(path).slice(0, count);
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const received: Received = {
          path: req.url ?? '/',
          headers: req.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        };
        this.requests.push(received);
        const count = this.to(received.path).length;
        for (const waiter of [...this.waiters]) {
          if (waiter.path === received.path && count >= waiter.count) {
            this.waiters.splice(this.waiters.indexOf(waiter), 1);
            waiter.resolve();
          }
        }
        const behaviour = this.behaviours.get(received.path) ?? (() => 200);
        void Promise.resolve(behaviour(received, count)).then((status) => {
          res.writeHead(status, { 'content-type': 'text/plain' });
          res.end(`answer ${status} `.repeat(200));
        });
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}

/** Never answers: the notifier's timeout (or death) ends the exchange. */
export const hang = (): Promise<number> => new Promise<number>(() => {});
