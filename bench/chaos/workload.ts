// The traffic the run keeps flowing while it breaks things: single and batch jobs (some
// failing and retried), uploads with an inputs zip, GPU jobs beyond the cluster's GPUs (so
// offload to RunPod runs), webhooks, and failover actions. Every id a 2xx accepted is kept.
// Submission is a closed loop per tenant: a tenant gets new jobs only while fewer than
// OUTSTANDING_PER_SLOT × its concurrent-job limit of its jobs are unfinished, so its queue
// stays a few jobs deep however long the run lasts (an open loop piles up a backlog that a
// 2-slot tenant drains for longer than the run itself).
import pg from 'pg';
import yazl from 'yazl';

import { call } from './client.js';
import { type Random, sleep } from './random.js';

/** Unfinished jobs a tenant may have per concurrent-job slot before the workload waits. */
export const OUTSTANDING_PER_SLOT = 2;

export interface Tenant {
  id: string;
  key: string;
  /** Unfinished jobs (queued, admitted or running) the workload lets the tenant have. */
  maxOutstanding: number;
  webhookEndpointId?: string;
}

export interface WorkloadStats {
  submitted: number;
  rejected: number;
  unknown: number;
  batches: number;
  uploads: number;
  gpuJobs: number;
  actions: number;
  /** Ticks the lanes spent waiting for a tenant with room for the kind they drew. */
  heldBack: number;
  /** The most unfinished jobs a tenant had at a sample, per tenant. */
  peakOutstanding: Record<string, number>;
  byStatus: Record<string, number>;
}

type Kind = 'single' | 'failing' | 'batch' | 'upload' | 'gpu' | 'action';

export class Workload {
  readonly accepted = new Map<string, string>(); // job id → tenant id
  readonly actions: string[] = [];
  readonly rejections: string[] = [];
  readonly stats: WorkloadStats = {
    submitted: 0,
    rejected: 0,
    unknown: 0,
    batches: 0,
    uploads: 0,
    gpuJobs: 0,
    actions: 0,
    heldBack: 0,
    peakOutstanding: {},
    byStatus: {},
  };
  tenants: Tenant[] = [];
  private stopped = false;
  private loops: Promise<void>[] = [];
  private zip: Buffer | undefined;
  private readonly backlog: Backlog;

  constructor(
    private readonly gateway: string,
    private readonly adminToken: string,
    private readonly random: Random,
    private readonly options: { webhookUrl: string; tickMs: number; databaseUrl: string },
  ) {
    this.backlog = new Backlog(options.databaseUrl, this.stats.peakOutstanding);
  }

  /** Creates the tenants (admin API, so GPU limits and an offload budget can be set). */
  async setUp(): Promise<void> {
    this.zip = await smallZip();
    const specs = [
      { tenant_id: 'chaos-a', max_cpu: 4, max_memory_gi: 8, max_gpu: 0, max_concurrent_jobs: 3 },
      { tenant_id: 'chaos-b', max_cpu: 2, max_memory_gi: 4, max_gpu: 0, max_concurrent_jobs: 2 },
      {
        tenant_id: 'chaos-gpu',
        max_cpu: 16,
        max_memory_gi: 64,
        max_gpu: 8,
        max_concurrent_jobs: 6,
        offload_budget_usd: 1000,
      },
    ];
    for (const spec of specs) {
      const answer = await call(`${this.gateway}/api/v1/tenants`, {
        method: 'POST',
        token: this.adminToken,
        body: { ...spec, rate_limit_per_second: 1000 },
      });
      const key = (answer?.body as { api_key?: string } | undefined)?.api_key;
      if (!answer || answer.status >= 300 || !key)
        throw new Error(`tenant ${spec.tenant_id}: ${JSON.stringify(answer)}`);
      const tenant: Tenant = {
        id: spec.tenant_id,
        key,
        maxOutstanding: OUTSTANDING_PER_SLOT * spec.max_concurrent_jobs,
      };
      const hook = await call(`${this.gateway}/api/v1/webhooks`, {
        method: 'POST',
        token: key,
        body: {
          url: `${this.options.webhookUrl}/hooks/${spec.tenant_id}`,
          events: ['job.succeeded', 'job.failed', 'job.cancelled'],
          description: 'chaos',
        },
      });
      if (!hook || hook.status >= 300)
        throw new Error(`webhook of ${spec.tenant_id}: ${JSON.stringify(hook)}`);
      tenant.webhookEndpointId = (hook.body as { id: string }).id;
      this.tenants.push(tenant);
    }
  }

  start(): void {
    this.loops = [this.backlog.run(() => this.stopped), ...[0, 1, 2].map((l) => this.lane(l))];
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.loops);
  }

  private async lane(lane: number): Promise<void> {
    while (!this.stopped) {
      const kind = this.random.weighted([
        ['single', 5],
        ['failing', 2],
        ['batch', 1],
        ['upload', 1],
        ['gpu', lane === 0 ? 2 : 0],
        ['action', lane === 1 ? 0.3 : 0],
      ] as const);
      // The drawn kind waits for a tenant with room (rather than being dropped), so the
      // traffic keeps the mix of the weights: a batch needs more room than a single.
      let tenants = this.withRoom(kind);
      while (!this.stopped && tenants?.length === 0) {
        this.stats.heldBack += 1;
        await sleep(this.options.tickMs);
        tenants = this.withRoom(kind);
      }
      if (this.stopped) break;
      try {
        await this.once(kind, tenants);
      } catch (err) {
        this.rejections.push(`${kind}: ${String(err)}`);
      }
      await sleep(this.options.tickMs);
    }
  }

  /** The tenants a submission of this kind may go to now; undefined for an action. */
  private withRoom(kind: Kind): Tenant[] | undefined {
    if (kind === 'action') return undefined;
    const needs = kind === 'batch' ? 2 : 1;
    return this.tenants.filter(
      (t) => (kind === 'gpu') === (t.id === 'chaos-gpu') && this.backlog.room(t) >= needs,
    );
  }

  private async once(kind: Kind, tenants: Tenant[] | undefined): Promise<void> {
    if (kind === 'action' || !tenants) return this.action();
    const tenant = this.random.pick(tenants);
    switch (kind) {
      case 'single':
        return this.submit(tenant, 1, this.sleeper());
      case 'failing':
        return this.submit(tenant, 1, {
          image: 'busybox',
          command: ['sh', '-c', `echo attempt; sleep ${this.random.int(1, 2)}; exit 3`],
          resources: { cpu: '250m', memory: '64Mi' },
          retry_policy: {
            max_attempts: 2,
            on_exit_codes: [3],
            backoff: { initial_seconds: 1, factor: 1, max_seconds: 1 },
          },
        });
      case 'batch': {
        // Two to five jobs, as many as the tenant has room for.
        const size = Math.min(this.random.int(2, 5), this.backlog.room(tenant));
        const jobs = Array.from({ length: size }, () => this.sleeper());
        this.stats.batches += 1;
        return this.send(tenant, jobs.length, () =>
          call(`${this.gateway}/api/v1/jobs:batch`, {
            method: 'POST',
            token: tenant.key,
            body: { jobs },
          }),
        );
      }
      case 'upload': {
        const zip = this.zip!;
        const spec = {
          image: 'busybox',
          command: ['sh', '-c', 'echo inputs ready; sleep 1'],
          resources: { cpu: '250m', memory: '64Mi' },
        };
        this.stats.uploads += 1;
        return this.send(tenant, 1, () =>
          call(`${this.gateway}/api/v1/jobs`, {
            method: 'POST',
            token: tenant.key,
            form: () => {
              const form = new FormData();
              form.set('spec', JSON.stringify(spec));
              form.set('inputs', new Blob([zip], { type: 'application/zip' }), 'inputs.zip');
              return form;
            },
          }),
        );
      }
      case 'gpu':
        // 4 GPUs each: more than the simulated GPU pool holds at once, so some go to RunPod.
        this.stats.gpuJobs += 1;
        return this.submit(tenant, 1, {
          image: 'busybox',
          command: ['sh', '-c', `echo gpu; sleep ${this.random.int(2, 4)}`],
          resources: { cpu: '1', memory: '1Gi', gpu: 4 },
          offload: this.random.chance(0.5) ? 'required' : 'allowed',
          annotations: { 'runpod.io/required-gpu-memory': '16' },
        });
    }
  }

  private async action(): Promise<void> {
    const cordon = this.stats.actions % 2 === 0;
    const answer = await call(`${this.gateway}/api/v1/actions`, {
      method: 'POST',
      token: this.adminToken,
      body: {
        dry_run: false,
        requestor: 'chaos',
        reason: 'chaos run',
        type: cordon ? 'cordon_nodepool' : 'uncordon_nodepool',
        node_pool: 'tpu-pool',
      },
    });
    this.stats.actions += 1;
    const id = (answer?.body as { id?: string } | undefined)?.id;
    if (answer && answer.status < 300 && id) this.actions.push(id);
    else if (answer)
      this.rejections.push(`action: ${answer.status} ${JSON.stringify(answer.body)}`);
  }

  private sleeper() {
    return {
      image: 'busybox',
      command: ['sh', '-c', `echo hello; sleep ${this.random.int(1, 3)}; echo done`],
      resources: { cpu: '250m', memory: '64Mi' },
    };
  }

  private submit(tenant: Tenant, count: number, spec: unknown): Promise<void> {
    return this.send(tenant, count, () =>
      call(`${this.gateway}/api/v1/jobs`, { method: 'POST', token: tenant.key, body: spec }),
    );
  }

  /** One submission of `count` jobs, held against the tenant's room while it is in flight. */
  private async send(
    tenant: Tenant,
    count: number,
    request: () => ReturnType<typeof call>,
  ): Promise<void> {
    const release = this.backlog.reserve(tenant.id, count);
    let answer: Awaited<ReturnType<typeof call>>;
    try {
      answer = await request();
    } finally {
      release();
    }
    this.record(tenant, answer, count);
  }

  private record(tenant: Tenant, answer: Awaited<ReturnType<typeof call>>, count: number): void {
    this.stats.submitted += count;
    if (!answer) {
      this.stats.unknown += count;
      return;
    }
    const key = String(answer.status);
    this.stats.byStatus[key] = (this.stats.byStatus[key] ?? 0) + 1;
    if (answer.status >= 300) {
      this.stats.rejected += count;
      this.rejections.push(
        `${tenant.id}: ${answer.status} ${JSON.stringify(answer.body).slice(0, 300)}`,
      );
      return;
    }
    const body = answer.body as { id?: string; items?: { id: string }[] };
    const ids = body.items?.map((i) => i.id) ?? (body.id ? [body.id] : []);
    for (const id of ids) this.accepted.set(id, tenant.id);
    this.backlog.accepted(tenant.id, ids.length);
  }
}

/**
 * Each tenant's unfinished jobs, as Postgres holds them (sampled), plus what the workload
 * accepted since the sample began and what it has in flight. A job is committed before its
 * submission is answered, so an answer that came before a sample began is in that sample.
 * While Postgres restarts, the last sample stands.
 */
class Backlog {
  private readonly counted = new Map<string, number>();
  private readonly inFlight = new Map<string, number>();
  /** Jobs accepted since the current sample began, by tenant. */
  private recent = new Map<string, number>();

  constructor(
    private readonly databaseUrl: string,
    private readonly peaks: Record<string, number>,
  ) {}

  room(tenant: Tenant): number {
    const outstanding =
      (this.counted.get(tenant.id) ?? 0) +
      (this.recent.get(tenant.id) ?? 0) +
      (this.inFlight.get(tenant.id) ?? 0);
    return tenant.maxOutstanding - outstanding;
  }

  reserve(tenantId: string, count: number): () => void {
    this.inFlight.set(tenantId, (this.inFlight.get(tenantId) ?? 0) + count);
    return () => this.inFlight.set(tenantId, this.inFlight.get(tenantId)! - count);
  }

  accepted(tenantId: string, count: number): void {
    this.recent.set(tenantId, (this.recent.get(tenantId) ?? 0) + count);
  }

  async run(stopped: () => boolean): Promise<void> {
    while (!stopped()) {
      const client = new pg.Client({ connectionString: this.databaseUrl });
      client.on('error', () => undefined);
      try {
        await client.connect();
        while (!stopped()) {
          await this.sample(client);
          await sleep(250);
        }
      } catch {
        await sleep(500);
      } finally {
        await client.end().catch(() => undefined);
      }
    }
  }

  private async sample(client: pg.Client): Promise<void> {
    const since = new Map<string, number>();
    const recent = this.recent;
    this.recent = since;
    try {
      const { rows } = await client.query<{ tenant_id: string; n: number }>(
        `select tenant_id, count(*)::int as n from jobs
          where status not in ('succeeded', 'failed', 'cancelled') group by tenant_id`,
      );
      this.counted.clear();
      for (const row of rows) {
        this.counted.set(row.tenant_id, row.n);
        this.peaks[row.tenant_id] = Math.max(this.peaks[row.tenant_id] ?? 0, row.n);
      }
    } catch (error) {
      // The sample failed: what was accepted before it is not counted anywhere else yet.
      for (const [tenant, n] of recent) since.set(tenant, (since.get(tenant) ?? 0) + n);
      throw error;
    }
  }
}

function smallZip(): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const zip = new yazl.ZipFile();
    zip.addBuffer(Buffer.from('<net/>\n'), 'scenario/net.xml');
    zip.addBuffer(Buffer.from('chaos input\n'), 'README.txt');
    zip.end();
    const chunks: Buffer[] = [];
    zip.outputStream.on('data', (c: Buffer) => chunks.push(c));
    zip.outputStream.on('end', () => resolve(Buffer.concat(chunks)));
    zip.outputStream.on('error', reject);
  });
}
