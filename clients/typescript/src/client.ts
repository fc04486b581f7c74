import { randomUUID } from 'node:crypto';

import createClient, { type Client } from 'openapi-fetch';

import { RoamError } from './errors.js';
import type { components, operations, paths } from './generated/openapi.js';
import { type RetryOptions, retryingFetch } from './retry.js';
import { readSse, type SseMessage } from './sse.js';

export type Schemas = components['schemas'];
export type Job = Schemas['Job'];
export type JobSpecInput = Schemas['JobSpecInput'];
export type JobSubmission = Schemas['JobSpecInput'] | Schemas['TemplateSubmit'];
export type JobPage = Schemas['JobPage'];
export type ArraySubmission = NonNullable<
  operations['Arrays_submit']['requestBody']
>['content']['application/json'];
export type Event = Schemas['Event'];
/** An event as published, as the feed sends it (`Event.event`, and `data` of a streamed one). */
export type EventEnvelope = Schemas['EventEnvelope'];
/** The `data` of a log stream's last message when the pod ended. */
export type LogStreamEnd = Schemas['LogStreamEnd'];
export type JobListQuery = NonNullable<operations['Jobs_list']['parameters']['query']>;
export type LogQuery = NonNullable<operations['Logs_stream']['parameters']['query']>;
export type EventQuery = NonNullable<operations['Events_stream']['parameters']['query']>;

export interface RoamClientOptions extends RetryOptions {
  /** The gateway, e.g. `http://127.0.0.1:3000`. */
  baseUrl: string;
  /** A tenant API key or the admin token, sent as `Authorization: Bearer …`. */
  apiKey?: string;
  /** Defaults to the global fetch. */
  fetch?: typeof fetch;
}

export interface SubmitOptions {
  /** Defaults to a fresh UUID, so a retried submit never creates a second job. */
  idempotencyKey?: string;
  /** A zip (or tar.gz) of the job's inputs, sent with the spec as multipart/form-data. */
  inputs?: { data: Uint8Array; filename?: string };
  /** Called as the body is sent, with bytes sent and total. */
  onUploadProgress?: (sent: number, total: number) => void;
}

/** The outcome of an openapi-fetch call: the data, or a RoamError built from the problem. */
function unwrap<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.response.ok) return result.data as T;
  throw RoamError.fromBody(result.response, result.error);
}

const TERMINAL = new Set(['succeeded', 'failed', 'cancelled']);
export const isTerminal = (status: string): boolean => TERMINAL.has(status);

/**
 * The roam API, typed from its OpenAPI document. `api` is the generated client for every
 * route (`client.api.GET('/api/v1/webhooks')`); the methods below add what a generator cannot:
 * idempotent submits, inputs uploads, paging iterators, log follow and the event feed.
 * Every failure is a `RoamError`; 429 answers are retried after `Retry-After`.
 */
export class RoamClient {
  readonly api: Client<paths>;
  readonly baseUrl: string;
  private readonly fetcher: (request: Request) => Promise<Response>;
  private readonly headers: Record<string, string>;

  constructor(options: RoamClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.headers = options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {};
    this.fetcher = retryingFetch(options.fetch ?? globalThis.fetch, options);
    this.api = createClient<paths>({
      baseUrl: this.baseUrl,
      headers: this.headers,
      fetch: this.fetcher,
    });
  }

  /** The tenant the key belongs to (tenant keys only). */
  async me(): Promise<Schemas['Tenant']> {
    return unwrap(await this.api.GET('/api/v1/tenants/me'));
  }

  /** Submits a job; with `inputs`, uploads them in the same request. */
  async submitJob(spec: JobSubmission, options: SubmitOptions = {}): Promise<Job> {
    const idempotencyKey = options.idempotencyKey ?? randomUUID();
    if (!options.inputs)
      return unwrap(
        await this.api.POST('/api/v1/jobs', {
          body: spec,
          headers: { 'idempotency-key': idempotencyKey },
        }),
      );
    const boundary = `roam-${randomUUID()}`;
    const filename = (options.inputs.filename ?? 'inputs.zip').replace(/["\r\n]/g, '_');
    const body = Buffer.concat([
      Buffer.from(
        `--${boundary}\r\ncontent-disposition: form-data; name="spec"\r\n` +
          `content-type: application/json\r\n\r\n${JSON.stringify(spec)}\r\n` +
          `--${boundary}\r\ncontent-disposition: form-data; name="inputs"; filename="${filename}"\r\n` +
          `content-type: application/octet-stream\r\n\r\n`,
      ),
      options.inputs.data,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const response = await this.raw('POST', '/api/v1/jobs', {
      headers: {
        'content-type': `multipart/form-data; boundary=${boundary}`,
        'content-length': String(body.length),
        'idempotency-key': idempotencyKey,
      },
      body: chunked(body, options.onUploadProgress),
      duplex: 'half',
    });
    return (await response.json()) as Job;
  }

  /** Submits up to 1000 JobSpecs in one transaction (`POST /api/v1/jobs:batch`), idempotently. */
  async submitBatch(
    jobs: JobSpecInput[],
    options: Pick<SubmitOptions, 'idempotencyKey'> = {},
  ): Promise<Schemas['JobBatchResult']> {
    return unwrap(
      await this.api.POST('/api/v1/jobs:batch', {
        body: { jobs },
        headers: { 'idempotency-key': options.idempotencyKey ?? randomUUID() },
      }),
    );
  }

  /** Submits a job array (a spec with `array: { size, … }`), idempotently. */
  async submitArray(
    spec: ArraySubmission,
    options: Pick<SubmitOptions, 'idempotencyKey'> = {},
  ): Promise<Schemas['JobArray']> {
    return unwrap(
      await this.api.POST('/api/v1/arrays', {
        body: spec,
        headers: { 'idempotency-key': options.idempotencyKey ?? randomUUID() },
      }),
    );
  }

  async getArray(id: string): Promise<Schemas['JobArray']> {
    return unwrap(await this.api.GET('/api/v1/arrays/{id}', { params: { path: { id } } }));
  }

  async getGroup(name: string): Promise<Schemas['JobGroup']> {
    return unwrap(await this.api.GET('/api/v1/groups/{name}', { params: { path: { name } } }));
  }

  async getJob(id: string): Promise<Job> {
    return unwrap(await this.api.GET('/api/v1/jobs/{id}', { params: { path: { id } } }));
  }

  async cancelJob(id: string): Promise<Job> {
    return unwrap(await this.api.DELETE('/api/v1/jobs/{id}', { params: { path: { id } } }));
  }

  async listJobs(query: JobListQuery = {}): Promise<JobPage> {
    return unwrap(await this.api.GET('/api/v1/jobs', { params: { query } }));
  }

  /** Every job matching `query`, page after page (`limit` is the page size). */
  async *jobs(query: JobListQuery = {}): AsyncGenerator<Job> {
    let cursor = query.cursor;
    do {
      const page = await this.listJobs({ ...query, ...(cursor ? { cursor } : {}) });
      yield* page.items;
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
  }

  async explain(id: string): Promise<Schemas['JobExplanation']> {
    return unwrap(await this.api.GET('/api/v1/jobs/{id}/explain', { params: { path: { id } } }));
  }

  /** The job's timeline, oldest first. */
  async jobEvents(id: string): Promise<Schemas['JobEvent'][]> {
    const page = unwrap(
      await this.api.GET('/api/v1/jobs/{id}/events', { params: { path: { id } } }),
    );
    return page.items;
  }

  /** The log as it is now (or up to `tail` lines). */
  async logs(id: string, query: LogQuery = {}): Promise<string> {
    return unwrap(
      await this.api.GET('/api/v1/jobs/{id}/logs', {
        params: { path: { id }, query: { ...query, follow: 'false' } },
        parseAs: 'text',
      }),
    );
  }

  /**
   * The log line by line, live until the pod ends (`GET …/logs/stream`). Ends after the
   * server's `end` event; throws when the stream is closed because the key was revoked.
   */
  async *followLogs(
    id: string,
    query: LogQuery = {},
    signal?: AbortSignal,
  ): AsyncGenerator<string, LogStreamEnd | undefined> {
    const response = await this.raw(
      'GET',
      `/api/v1/jobs/${encodeURIComponent(id)}/logs/stream${search(query)}`,
      { headers: { accept: 'text/event-stream' }, ...(signal ? { signal } : {}) },
    );
    for await (const message of readSse(response.body!)) {
      if (message.event === 'message') yield message.data;
      else if (message.event === 'end')
        return JSON.parse(message.data) as Schemas['LogStreamEndMessage']['data'];
      else if (message.event === 'closed') throw closedError(response, message);
    }
    return undefined;
  }

  /** One page of the tenant's event feed. */
  async listEvents(
    query: NonNullable<operations['Events_list']['parameters']['query']> = {},
  ): Promise<Schemas['EventPage']> {
    return unwrap(await this.api.GET('/api/v1/events', { params: { query } }));
  }

  /** Every event of the feed from `after`, page after page, then stops. */
  async *events(
    query: NonNullable<operations['Events_list']['parameters']['query']> = {},
  ): AsyncGenerator<Schemas['EventPage']['items'][number]> {
    let cursor = query.cursor;
    do {
      const page = await this.listEvents({ ...query, ...(cursor ? { cursor } : {}) });
      yield* page.items;
      // The feed always names a cursor (to poll from later); `has_more` says whether to go on.
      cursor = page.has_more ? (page.next_cursor ?? undefined) : undefined;
    } while (cursor);
  }

  /** The live event feed (SSE), replayed from `after`; runs until `signal` aborts it. */
  async *eventStream(query: EventQuery = {}, signal?: AbortSignal): AsyncGenerator<Event> {
    const response = await this.raw('GET', `/api/v1/events/stream${search(query)}`, {
      headers: { accept: 'text/event-stream' },
      ...(signal ? { signal } : {}),
    });
    try {
      for await (const message of readSse(response.body!)) {
        if (message.event === 'closed') throw closedError(response, message);
        // One `EventStreamEvent`: the envelope as `data`, its position as `id`, its short type
        // as `event`; yielded as the paged feed's `Event`.
        if (message.data)
          yield {
            position: Number(message.id),
            type: message.event,
            event: JSON.parse(message.data) as Schemas['EventStreamEvent']['data'],
          };
      }
    } catch (error) {
      if (signal?.aborted) return;
      throw error;
    }
  }

  async results(id: string): Promise<Schemas['ResultList']> {
    return unwrap(await this.api.GET('/api/v1/jobs/{id}/results', { params: { path: { id } } }));
  }

  /** Every result file as one zip, as a streamed response (`body`, `content-length`). */
  async resultsZip(id: string): Promise<Response> {
    return this.raw('GET', `/api/v1/jobs/${encodeURIComponent(id)}/results.zip`);
  }

  /** One result file, streamed through the gateway. */
  async resultFile(id: string, path: string): Promise<Response> {
    const file = path.split('/').map(encodeURIComponent).join('/');
    return this.raw('GET', `/api/v1/jobs/${encodeURIComponent(id)}/results/${file}?redirect=false`);
  }

  /**
   * A request the generated client cannot describe (streams, uploads, the results file route
   * whose path the document gives as `*path`); throws a RoamError unless the answer is 2xx.
   */
  async raw(method: string, path: string, init: RequestInit = {}): Promise<Response> {
    const request = new Request(`${this.baseUrl}${path}`, {
      ...init,
      method,
      headers: { ...this.headers, ...(init.headers as Record<string, string>) },
    });
    const response = await this.fetcher(request);
    if (!response.ok) throw await RoamError.from(response);
    return response;
  }
}

function search(
  query: Record<string, string | string[] | number | boolean | undefined | null>,
): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query))
    if (value !== undefined && value !== null) params.set(key, String(value));
  const text = params.toString();
  return text ? `?${text}` : '';
}

function closedError(response: Response, message: SseMessage): RoamError {
  const { detail } = JSON.parse(message.data) as Schemas['StreamClosedMessage']['data'];
  return new RoamError({
    type: 'about:blank',
    title: 'Stream closed by the server',
    status: response.status,
    detail,
  });
}

/** The body as a stream of 64 KiB chunks, reporting progress as each is taken. */
function chunked(
  body: Buffer,
  onProgress?: (sent: number, total: number) => void,
): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream({
    pull(controller) {
      if (offset >= body.length) {
        controller.close();
        return;
      }
      const end = Math.min(body.length, offset + 64 * 1024);
      controller.enqueue(body.subarray(offset, end));
      offset = end;
      onProgress?.(offset, body.length);
    },
  });
}
