// What the run watches while it runs: every Kubernetes Job the simulator ever held (a watch,
// re-listed after every drop) and each tenant's admitted usage against its limits, sampled
// from Postgres in one statement (a consistent snapshot).
import pg from 'pg';

import { sleep } from './random.js';

interface KubeJob {
  metadata: { name?: string; namespace?: string; uid?: string; resourceVersion?: string };
  spec?: { suspend?: boolean };
}

/**
 * Every uid seen per Kubernetes Job name (`roam-<job>-<attempt>` for roam's own) among Jobs
 * that could make a pod here. A Job only ever seen suspended is the offload worker's stand-in
 * for a pod on RunPod: it never makes a pod in the cluster, and when RunPod made no pod it is
 * deleted and a later placement of the same attempt creates another. Those are counted apart
 * (`suspendedOnly`); RunPod's side is checked by `no-duplicate-runpod-pods`.
 */
export class KubeJobWatcher {
  readonly uids = new Map<string, Set<string>>();
  readonly suspendedOnly = new Map<string, Set<string>>();
  private readonly unsuspended = new Set<string>();
  watchDrops = 0;
  private stopped = false;
  private controller: AbortController | undefined;
  private loop: Promise<void> | undefined;

  constructor(private readonly simUrl: string) {}

  start(): void {
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.controller?.abort();
    await this.loop;
  }

  private record(job: KubeJob): void {
    const key = `${job.metadata.namespace}/${job.metadata.name}`;
    const uid = job.metadata.uid;
    if (!uid) return;
    if (job.spec?.suspend === true && !this.unsuspended.has(uid)) {
      const set = this.suspendedOnly.get(key) ?? new Set<string>();
      this.suspendedOnly.set(key, set.add(uid));
      return;
    }
    this.unsuspended.add(uid);
    this.suspendedOnly.get(key)?.delete(uid);
    const set = this.uids.get(key) ?? new Set<string>();
    this.uids.set(key, set.add(uid));
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      this.controller = new AbortController();
      try {
        const list = (await (
          await fetch(`${this.simUrl}/apis/batch/v1/jobs`, { signal: this.controller.signal })
        ).json()) as { items: KubeJob[]; metadata: { resourceVersion: string } };
        for (const job of list.items) this.record(job);
        const response = await fetch(
          `${this.simUrl}/apis/batch/v1/jobs?watch=true&resourceVersion=${list.metadata.resourceVersion}`,
          { signal: this.controller.signal },
        );
        const decoder = new TextDecoder();
        let buffer = '';
        for await (const chunk of response.body ?? []) {
          buffer += decoder.decode(chunk as Uint8Array, { stream: true });
          let end: number;
          while ((end = buffer.indexOf('\n')) >= 0) {
            const line = buffer.slice(0, end).trim();
            buffer = buffer.slice(end + 1);
            if (!line) continue;
            const event = JSON.parse(line) as { type: string; object: KubeJob };
            if (event.type === 'ADDED' || event.type === 'MODIFIED') this.record(event.object);
          }
        }
      } catch {
        /* dropped: re-list and re-watch */
      }
      if (this.stopped) return;
      this.watchDrops += 1;
      await sleep(200);
    }
  }
}

export interface QuotaSample {
  at: number;
  tenantId: string;
  jobs: number;
  cpuMillis: number;
  memoryBytes: number;
  gpu: number;
  maxJobs: number;
  maxCpuMillis: number;
  maxMemoryBytes: number;
  maxGpu: number;
  jobIds: string[];
}

/**
 * Jobs holding quota per tenant, as admission counts them (admitted and not finished: jobs
 * offloaded to RunPod were never admitted and hold none), with the tenant's limits.
 */
const USAGE_SQL = `
  select t.id as tenant_id, t.max_concurrent_jobs, t.max_cpu_millis, t.max_memory_bytes, t.max_gpu,
         count(j.id)::int as jobs, coalesce(sum(j.cpu_millis), 0)::bigint as cpu,
         coalesce(sum(j.memory_bytes), 0)::bigint as memory, coalesce(sum(j.gpu), 0)::int as gpu,
         coalesce(array_agg(j.id::text) filter (where j.id is not null), '{}') as job_ids
    from tenants t
    left join jobs j on j.tenant_id = t.id
         and j.admitted_at is not null and j.status in ('pending', 'running')
   group by t.id`;

export class QuotaSampler {
  readonly overAdmissions: QuotaSample[] = [];
  samples = 0;
  failedSamples = 0;
  private stopped = false;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly databaseUrl: string,
    private readonly intervalMs: number,
  ) {}

  start(): void {
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const client = new pg.Client({ connectionString: this.databaseUrl });
      client.on('error', () => undefined);
      try {
        await client.connect();
        while (!this.stopped) {
          await this.sample(client);
          await sleep(this.intervalMs);
        }
      } catch {
        this.failedSamples += 1;
        await sleep(500);
      } finally {
        await client.end().catch(() => undefined);
      }
    }
  }

  private async sample(client: pg.Client): Promise<void> {
    const { rows } = await client.query<{
      tenant_id: string;
      max_concurrent_jobs: number;
      max_cpu_millis: number;
      max_memory_bytes: string;
      max_gpu: number;
      jobs: number;
      cpu: string;
      memory: string;
      gpu: number;
      job_ids: string[];
    }>(USAGE_SQL);
    this.samples += 1;
    for (const row of rows) {
      const sample: QuotaSample = {
        at: Date.now(),
        tenantId: row.tenant_id,
        jobs: row.jobs,
        cpuMillis: Number(row.cpu),
        memoryBytes: Number(row.memory),
        gpu: row.gpu,
        maxJobs: row.max_concurrent_jobs,
        maxCpuMillis: row.max_cpu_millis,
        maxMemoryBytes: Number(row.max_memory_bytes),
        maxGpu: row.max_gpu,
        jobIds: row.job_ids,
      };
      if (
        sample.jobs > sample.maxJobs ||
        sample.cpuMillis > sample.maxCpuMillis ||
        sample.memoryBytes > sample.maxMemoryBytes ||
        sample.gpu > sample.maxGpu
      )
        this.overAdmissions.push(sample);
    }
  }
}
