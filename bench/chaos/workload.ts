// The traffic the run keeps flowing while it breaks things: single and batch jobs (some
// failing and retried), uploads with an inputs zip, GPU jobs beyond the cluster's GPUs (so
// offload to RunPod runs), webhooks, and failover actions. Every id a 2xx accepted is kept.
import yazl from 'yazl';

import { call } from './client.js';
import { type Random, sleep } from './random.js';

export interface Tenant {
  id: string;
  key: string;
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
  byStatus: Record<string, number>;
}

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
    byStatus: {},
  };
  tenants: Tenant[] = [];
  private stopped = false;
  private loops: Promise<void>[] = [];
  private zip: Buffer | undefined;

  constructor(
    private readonly gateway: string,
    private readonly adminToken: string,
    private readonly random: Random,
    private readonly options: { webhookUrl: string; tickMs: number },
  ) {}

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
      const tenant: Tenant = { id: spec.tenant_id, key };
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
    this.loops = [0, 1, 2].map((lane) => this.lane(lane));
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
      try {
        await this.once(kind);
      } catch (err) {
        this.rejections.push(`${kind}: ${String(err)}`);
      }
      await sleep(this.options.tickMs);
    }
  }

  private async once(
    kind: 'single' | 'failing' | 'batch' | 'upload' | 'gpu' | 'action',
  ): Promise<void> {
    const cpuTenants = this.tenants.filter((t) => t.id !== 'chaos-gpu');
    switch (kind) {
      case 'single':
        return this.submit(this.random.pick(cpuTenants), this.sleeper());
      case 'failing':
        return this.submit(this.random.pick(cpuTenants), {
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
        const tenant = this.random.pick(cpuTenants);
        const jobs = Array.from({ length: this.random.int(2, 5) }, () => this.sleeper());
        const answer = await call(`${this.gateway}/api/v1/jobs:batch`, {
          method: 'POST',
          token: tenant.key,
          body: { jobs },
        });
        this.stats.batches += 1;
        this.record(tenant, answer, jobs.length);
        return;
      }
      case 'upload': {
        const tenant = this.random.pick(cpuTenants);
        const zip = this.zip!;
        const spec = {
          image: 'busybox',
          command: ['sh', '-c', 'echo inputs ready; sleep 1'],
          resources: { cpu: '250m', memory: '64Mi' },
        };
        const answer = await call(`${this.gateway}/api/v1/jobs`, {
          method: 'POST',
          token: tenant.key,
          form: () => {
            const form = new FormData();
            form.set('spec', JSON.stringify(spec));
            form.set('inputs', new Blob([zip], { type: 'application/zip' }), 'inputs.zip');
            return form;
          },
        });
        this.stats.uploads += 1;
        this.record(tenant, answer, 1);
        return;
      }
      case 'gpu': {
        const tenant = this.tenants.find((t) => t.id === 'chaos-gpu')!;
        // 4 GPUs each: more than the simulated GPU pool holds at once, so some go to RunPod.
        this.stats.gpuJobs += 1;
        return this.submit(tenant, {
          image: 'busybox',
          command: ['sh', '-c', `echo gpu; sleep ${this.random.int(2, 4)}`],
          resources: { cpu: '1', memory: '1Gi', gpu: 4 },
          offload: this.random.chance(0.5) ? 'required' : 'allowed',
          annotations: { 'runpod.io/required-gpu-memory': '16' },
        });
      }
      case 'action': {
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
        return;
      }
    }
  }

  private sleeper() {
    return {
      image: 'busybox',
      command: ['sh', '-c', `echo hello; sleep ${this.random.int(1, 3)}; echo done`],
      resources: { cpu: '250m', memory: '64Mi' },
    };
  }

  private async submit(tenant: Tenant, spec: unknown): Promise<void> {
    const answer = await call(`${this.gateway}/api/v1/jobs`, {
      method: 'POST',
      token: tenant.key,
      body: spec,
    });
    this.record(tenant, answer, 1);
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
    for (const id of body.items?.map((i) => i.id) ?? (body.id ? [body.id] : []))
      this.accepted.set(id, tenant.id);
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
