import http from 'node:http';
import https from 'node:https';

import { isIP } from 'node:net';

import { addressRefusal, type DestinationPolicy, guardedLookup } from '@roam/webhooks';

export interface WebhookRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

export interface WebhookResponse {
  statusCode?: number;
  /** First bytes of the response body. */
  body?: string;
  error?: string;
  durationMs: number;
}

/** The port the delivery loop posts through; tests and the bench may use their own. */
export interface WebhookSender {
  send(request: WebhookRequest): Promise<WebhookResponse>;
}

/** Kept from a response: enough to debug a receiver, never a whole page. */
export const RESPONSE_BODY_LIMIT = 1024;

/**
 * What a receiver answered, as Postgres `text` can hold it: without NUL characters, which it
 * refuses. One endpoint's odd answer must not fail the batch recording other tenants'
 * deliveries.
 */
function storable(text: string): string {
  return text.includes('\u0000') ? text.replaceAll('\u0000', '') : text;
}

/**
 * POSTs with node:http: no redirect is followed (a 3xx is a failed attempt), the whole
 * exchange is bounded by `timeoutMs`, and the socket only ever connects to an address that
 * passed the destination policy (checked at connect time: DNS rebinding).
 */
export class HttpWebhookSender implements WebhookSender {
  private readonly httpAgent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  private readonly httpsAgent = new https.Agent({ keepAlive: true, maxSockets: 64 });

  constructor(
    private readonly policy: DestinationPolicy,
    private readonly timeoutMs: number,
  ) {}

  async send(request: WebhookRequest): Promise<WebhookResponse> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    let url: URL;
    try {
      url = new URL(request.url);
    } catch {
      return { error: 'invalid url', durationMs: elapsed() };
    }
    // An IP literal never goes through `lookup`, so it is checked here; names are checked by
    // the guarded lookup when the socket connects.
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const refusal = isIP(host) ? addressRefusal(host, this.policy) : undefined;
    if (refusal) return { error: `refused: ${refusal}`, durationMs: elapsed() };
    const secure = url.protocol === 'https:';
    return new Promise<WebhookResponse>((resolve) => {
      let settled = false;
      const finish = (response: Omit<WebhookResponse, 'durationMs'>) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve({ ...response, durationMs: elapsed() });
      };
      const req = (secure ? https : http).request(url, {
        method: 'POST',
        agent: secure ? this.httpsAgent : this.httpAgent,
        lookup: guardedLookup(this.policy),
        headers: {
          ...request.headers,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(request.body),
          'user-agent': 'roam-webhooks/1',
        },
      });
      const timer = setTimeout(() => {
        finish({ error: `no response within ${this.timeoutMs} ms` });
        req.destroy();
      }, this.timeoutMs);
      req.on('error', (error) => finish({ error: error.message }));
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        let kept = 0;
        res.on('data', (chunk: Buffer) => {
          if (kept < RESPONSE_BODY_LIMIT) {
            chunks.push(chunk);
            kept += chunk.length;
          }
        });
        const done = () =>
          finish({
            statusCode: res.statusCode ?? 0,
            // Only the bytes the kept characters can span are decoded (at most 4 each): the
            // kept text then holds no larger string alive while it waits to be recorded.
            body: storable(
              Buffer.concat(chunks)
                .toString('utf8', 0, RESPONSE_BODY_LIMIT * 4 + 4)
                .slice(0, RESPONSE_BODY_LIMIT),
            ),
          });
        res.on('end', done);
        res.on('error', done);
      });
      req.end(request.body);
    });
  }

  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }
}
