/**
 * What the bench sees from outside the stack: webhook deliveries (a receiver on 127.0.0.1) and
 * Kubernetes Job creations (a watch on the simulator), each stamped with the time it arrived.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** First delivery of `job.succeeded` per job id, in epoch ms. */
export class WebhookReceiver {
  readonly delivered = new Map<string, number>();
  private readonly perTenant = new Map<string, number>();
  private server: Server | undefined;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const at = Date.now();
        try {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
            tenantId?: string;
            data?: { jobId?: string };
          };
          const jobId = body.data?.jobId;
          if (jobId && !this.delivered.has(jobId)) {
            this.delivered.set(jobId, at);
            const tenant = body.tenantId ?? '';
            this.perTenant.set(tenant, (this.perTenant.get(tenant) ?? 0) + 1);
          }
        } catch {
          // Not an event: answer anyway, the bench measures, it does not judge.
        }
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook`;
  }

  /** Jobs of `tenant` whose first `job.succeeded` arrived. */
  count(tenant: string): number {
    return this.perTenant.get(tenant) ?? 0;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve) ?? resolve(undefined));
  }
}

/** First sight (ADDED) of each Kubernetes Job, by roam job id label, in epoch ms. */
export class KubeJobWatch {
  readonly created = new Map<string, number>();
  private readonly aborted = new AbortController();
  private running: Promise<void> | undefined;

  constructor(private readonly simUrl: string) {}

  start(): void {
    this.running = this.watch().catch(() => undefined);
  }

  private async watch(): Promise<void> {
    while (!this.aborted.signal.aborted) {
      const response = await fetch(`${this.simUrl}/apis/batch/v1/jobs?watch=true`, {
        headers: { authorization: 'Bearer simulated' },
        signal: this.aborted.signal,
      });
      if (!response.body) return;
      const decoder = new TextDecoder();
      let buffered = '';
      for await (const chunk of response.body) {
        const at = Date.now();
        buffered += decoder.decode(chunk as Uint8Array, { stream: true });
        let newline: number;
        while ((newline = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, newline);
          buffered = buffered.slice(newline + 1);
          if (!line.includes('"ADDED"')) continue;
          const event = JSON.parse(line) as {
            type: string;
            object?: { metadata?: { labels?: Record<string, string> } };
          };
          const jobId = event.object?.metadata?.labels?.['roam.dev/job-id'];
          if (event.type === 'ADDED' && jobId && !this.created.has(jobId))
            this.created.set(jobId, at);
        }
      }
    }
  }

  async close(): Promise<void> {
    this.aborted.abort();
    await this.running;
  }
}
