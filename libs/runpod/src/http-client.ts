import { setTimeout as delay } from 'node:timers/promises';

import { z } from 'zod';

import {
  type CreatePodInput,
  type GpuType,
  type RunPod,
  RunPodError,
  type RunPodPod,
  RunPodTimeout,
} from './port.js';

export interface RunPodClientOptions {
  /** REST v1 base, `https://rest.runpod.io/v1` in production; the simulator's `/v1` in tests. */
  restUrl: string;
  /** GraphQL endpoint (GPU catalogue); derived from `restUrl` when absent. */
  graphqlUrl?: string;
  apiKey: string;
  /** One attempt's budget; a hung RunPod never holds a reconcile forever. */
  timeoutMs?: number;
  /** Attempts for 429 and 5xx (and network errors) before the error surfaces. */
  maxAttempts?: number;
  /** First backoff; doubles per attempt, with jitter, capped at 30 s; `Retry-After` wins. */
  backoffMs?: number;
}

const podSchema = z
  .object({
    id: z.string(),
    name: z
      .string()
      .nullish()
      .transform((v) => v ?? ''),
    desiredStatus: z.enum(['RUNNING', 'EXITED', 'TERMINATED']),
    imageName: z
      .string()
      .nullish()
      .transform((v) => v ?? ''),
    image: z.string().optional(),
    gpuTypeId: z
      .string()
      .nullish()
      .transform((v) => v ?? undefined),
    gpuCount: z
      .number()
      .nullish()
      .transform((v) => v ?? 0),
    costPerHr: z.coerce
      .number()
      .nullish()
      .transform((v) => v ?? 0),
    dataCenterId: z
      .string()
      .nullish()
      .transform((v) => v ?? undefined),
    machine: z.object({ dataCenterId: z.string().nullish() }).nullish(),
    env: z
      .record(z.string(), z.string())
      .nullish()
      .transform((v) => v ?? {}),
    lastStartedAt: z
      .string()
      .nullish()
      .transform((v) => v ?? undefined),
    lastStatusChange: z
      .string()
      .nullish()
      .transform((v) => v ?? undefined),
    exitCode: z
      .number()
      .int()
      .nullish()
      .transform((v) => v ?? undefined),
  })
  .transform((p): RunPodPod => ({
    id: p.id,
    name: p.name,
    desiredStatus: p.desiredStatus,
    imageName: p.imageName || p.image || '',
    gpuTypeId: p.gpuTypeId,
    gpuCount: p.gpuCount,
    costPerHr: p.costPerHr,
    dataCenterId: p.dataCenterId ?? p.machine?.dataCenterId ?? undefined,
    env: p.env,
    lastStartedAt: p.lastStartedAt,
    lastStatusChange: p.lastStatusChange,
    exitCode: p.exitCode,
  }));

const catalogSchema = z.object({
  data: z.object({
    gpuTypes: z.array(
      z.object({
        id: z.string(),
        displayName: z.string().nullish(),
        memoryInGb: z.number(),
        securePrice: z.number().nullish(),
        communityPrice: z.number().nullish(),
      }),
    ),
    dataCenters: z
      .array(
        z.object({
          id: z.string(),
          gpuAvailability: z
            .array(
              z.object({
                gpuTypeId: z.string(),
                // RunPod reports High/Medium/Low/None; the simulator adds the exact count.
                stockStatus: z.string().nullish(),
                available: z.number().int().nullish(),
              }),
            )
            .nullish(),
        }),
      )
      .nullish(),
  }),
});

const CATALOG_QUERY =
  'query { gpuTypes { id displayName memoryInGb securePrice communityPrice } dataCenters { id gpuAvailability { gpuTypeId stockStatus available } } }';

const STOCK: Record<string, number> = { high: 16, medium: 4, low: 1 };

function graphqlUrlFor(restUrl: string): string {
  const url = new URL(restUrl);
  if (url.hostname === 'rest.runpod.io') return 'https://api.runpod.io/graphql';
  return new URL('/graphql', url).toString();
}

/** RunPod over HTTP: bearer key, per-attempt timeout, retries with backoff on 429/5xx. */
export class RunPodHttpClient implements RunPod {
  private readonly restUrl: string;
  private readonly graphqlUrl: string;
  private readonly timeoutMs: number;
  private readonly maxAttempts: number;
  private readonly backoffMs: number;

  constructor(private readonly options: RunPodClientOptions) {
    this.restUrl = options.restUrl.replace(/\/+$/, '');
    this.graphqlUrl = options.graphqlUrl ?? graphqlUrlFor(this.restUrl);
    this.timeoutMs = options.timeoutMs ?? 15_000;
    this.maxAttempts = options.maxAttempts ?? 4;
    this.backoffMs = options.backoffMs ?? 250;
  }

  async gpuTypes(): Promise<GpuType[]> {
    const body = await this.request('POST', this.graphqlUrl, { query: CATALOG_QUERY });
    const { data } = catalogSchema.parse(body);
    const where = new Map<string, Array<{ id: string; available: number }>>();
    for (const dc of data.dataCenters ?? []) {
      for (const a of dc.gpuAvailability ?? []) {
        const available = a.available ?? STOCK[(a.stockStatus ?? '').toLowerCase()] ?? 0;
        where.set(a.gpuTypeId, [...(where.get(a.gpuTypeId) ?? []), { id: dc.id, available }]);
      }
    }
    return data.gpuTypes.map((g) => ({
      id: g.id,
      displayName: g.displayName ?? g.id,
      memoryInGb: g.memoryInGb,
      securePrice: g.securePrice ?? null,
      communityPrice: g.communityPrice ?? null,
      dataCenters: where.get(g.id) ?? [],
    }));
  }

  async createPod(input: CreatePodInput): Promise<RunPodPod> {
    // Not retried on 5xx: a create that timed out may have succeeded. The caller repairs by
    // finding the pod by its name (the offload id), never by creating a second one blindly.
    return podSchema.parse(await this.request('POST', `${this.restUrl}/pods`, input, false));
  }

  async getPod(id: string): Promise<RunPodPod | undefined> {
    try {
      return podSchema.parse(
        await this.request('GET', `${this.restUrl}/pods/${encodeURIComponent(id)}`),
      );
    } catch (error) {
      if (error instanceof RunPodError && error.notFound) return undefined;
      throw error;
    }
  }

  async listPods(namePrefix?: string): Promise<RunPodPod[]> {
    const pods = z.array(podSchema).parse(await this.request('GET', `${this.restUrl}/pods`));
    return namePrefix ? pods.filter((p) => p.name.startsWith(namePrefix)) : pods;
  }

  async terminatePod(id: string): Promise<void> {
    try {
      await this.request('DELETE', `${this.restUrl}/pods/${encodeURIComponent(id)}`);
    } catch (error) {
      if (error instanceof RunPodError && error.notFound) return;
      throw error;
    }
  }

  async logs(id: string): Promise<string> {
    const body = await this.request('GET', `${this.restUrl}/pods/${encodeURIComponent(id)}/logs`);
    return typeof body === 'string' ? body : z.object({ logs: z.string() }).parse(body).logs;
  }

  private async request(
    method: string,
    url: string,
    body?: unknown,
    retry5xx = true,
  ): Promise<unknown> {
    let lastError: unknown;
    for (let attempt = 1; attempt <= this.maxAttempts; attempt += 1) {
      let waitMs =
        Math.min(this.backoffMs * 2 ** (attempt - 1), 30_000) * (0.5 + Math.random() / 2);
      try {
        const response = await fetch(url, {
          method,
          headers: {
            authorization: `Bearer ${this.options.apiKey}`,
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(this.timeoutMs),
        });
        const text = await response.text();
        let parsed: unknown = text;
        try {
          parsed = text ? JSON.parse(text) : undefined;
        } catch {
          // plain text (logs, some errors)
        }
        if (response.ok) return parsed;
        const message =
          (parsed as { error?: string; message?: string } | undefined)?.error ??
          (parsed as { message?: string } | undefined)?.message ??
          `HTTP ${response.status}`;
        const error = new RunPodError(
          response.status,
          `RunPod ${method} ${new URL(url).pathname}: ${message}`,
          parsed,
        );
        const retryable = response.status === 429 || (response.status >= 500 && retry5xx);
        if (!retryable) throw error;
        lastError = error;
        const retryAfter = Number(response.headers.get('retry-after'));
        if (Number.isFinite(retryAfter) && retryAfter > 0) waitMs = retryAfter * 1000;
      } catch (caught) {
        const error =
          (caught as Error).name === 'TimeoutError'
            ? new RunPodTimeout(`${method} ${new URL(url).pathname}`, this.timeoutMs)
            : caught;
        if (
          error instanceof RunPodError &&
          !(error.status === 429 || (error.status >= 500 && retry5xx))
        )
          throw error;
        if (!(error instanceof RunPodError) && !retry5xx) throw error;
        lastError = error;
      }
      if (attempt < this.maxAttempts) await delay(waitMs);
    }
    throw lastError;
  }
}
