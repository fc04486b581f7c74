// The invariants, checked against what the run saw and what Postgres, the simulator and the
// RunPod simulator hold once the stack is quiet. Each violation names its ids.
import pg from 'pg';

import type { FeedReader } from './feed.js';
import type { KubeJobWatcher, QuotaSampler } from './observers.js';
import type { WebhookReceiver } from './receiver.js';
import type { Workload } from './workload.js';

export type CheckName =
  | 'no-lost-jobs'
  | 'jobs-finish'
  | 'no-duplicate-kube-jobs'
  | 'no-duplicate-runpod-pods'
  | 'no-quota-over-admission'
  | 'feed-in-order-without-gaps'
  | 'webhooks-delivered'
  | 'webhook-id-stable'
  | 'logs-archived'
  | 'actions-finish';

export const CHECKS: readonly CheckName[] = [
  'no-lost-jobs',
  'jobs-finish',
  'no-duplicate-kube-jobs',
  'no-duplicate-runpod-pods',
  'no-quota-over-admission',
  'feed-in-order-without-gaps',
  'webhooks-delivered',
  'webhook-id-stable',
  'logs-archived',
  'actions-finish',
];

export interface Violation {
  check: CheckName;
  message: string;
}

export interface Observed {
  workload: Workload;
  feeds: Map<string, FeedReader>;
  receiver: WebhookReceiver;
  kubeJobs: KubeJobWatcher;
  quota: QuotaSampler;
  runpodUrl: string;
  databaseUrl: string;
}

const FINAL = new Set(['succeeded', 'failed', 'cancelled']);
const WEBHOOK_TYPES = ['job.succeeded', 'job.failed', 'job.cancelled'].map(
  (t) => `roam.evt.v1.${t}`,
);

interface JobRow {
  id: string;
  tenant_id: string;
  status: string;
  phase: string;
  reason: string | null;
  seq: number;
  attempt: number;
  started_at: Date | null;
}

export interface Evaluation {
  /** Empty when every invariant held. */
  violations: Violation[];
  jobsByStatus: Record<string, number>;
}

/** Every check, against the stack as it is now. */
export async function evaluate(observed: Observed): Promise<Evaluation> {
  const db = new pg.Client({ connectionString: observed.databaseUrl });
  db.on('error', () => undefined);
  await db.connect();
  try {
    const violations: Violation[] = [];
    const add = (check: CheckName, message: string) => violations.push({ check, message });
    const accepted = observed.workload.accepted;
    const ids = [...accepted.keys()];

    const { rows: jobs } = await db.query<JobRow>(
      `select id::text, tenant_id, status::text, phase, reason, seq, attempt, started_at
         from jobs where id = any($1::uuid[])`,
      [ids],
    );
    const byId = new Map(jobs.map((j) => [j.id, j]));

    // 1. Every id a 2xx accepted exists, under the tenant that submitted it.
    for (const [id, tenant] of accepted) {
      const job = byId.get(id);
      if (!job) add('no-lost-jobs', `job ${id} (tenant ${tenant}) was accepted and is gone`);
      else if (job.tenant_id !== tenant)
        add('no-lost-jobs', `job ${id} belongs to ${job.tenant_id}, submitted by ${tenant}`);
    }
    // 2. Every job reaches a final state.
    for (const job of jobs)
      if (!FINAL.has(job.status))
        add(
          'jobs-finish',
          `job ${job.id} (${job.tenant_id}) is still ${job.status} ${job.phase}/${job.reason ?? '-'} attempt ${job.attempt}`,
        );

    // 3. At most one Kubernetes Job per job attempt, ever (one uid per deterministic name).
    for (const [name, uids] of observed.kubeJobs.uids)
      if (uids.size > 1)
        add(
          'no-duplicate-kube-jobs',
          `Kubernetes Job ${name} was created ${uids.size} times (uids ${[...uids].join(', ')})`,
        );

    // 4. At most one RunPod pod per offloaded job attempt.
    const pods = (await (await fetch(`${observed.runpodUrl}/admin/pods`)).json()) as {
      id: string;
      name: string;
      desiredStatus: string;
    }[];
    const { rows: offloads } = await db.query<{
      id: string;
      kube_job_name: string;
      job_id: string | null;
      runpod_pod_id: string | null;
    }>(`select id::text, kube_job_name, job_id::text, runpod_pod_id from offloads`);
    const offloadById = new Map(offloads.map((o) => [o.id, o]));
    const podsPerAttempt = new Map<string, string[]>();
    for (const pod of pods) {
      const offloadId = pod.name.replace(/^roam-offload-/, '');
      const offload = offloadById.get(offloadId);
      const key = offload?.kube_job_name ?? `(no offload row for ${pod.name})`;
      podsPerAttempt.set(key, [...(podsPerAttempt.get(key) ?? []), pod.id]);
      if (!offload && pod.desiredStatus !== 'TERMINATED')
        add(
          'no-duplicate-runpod-pods',
          `RunPod pod ${pod.id} (${pod.name}) has no offload row and still runs`,
        );
    }
    for (const [attempt, list] of podsPerAttempt)
      if (list.length > 1 && !attempt.startsWith('('))
        add(
          'no-duplicate-runpod-pods',
          `${attempt} has ${list.length} RunPod pods: ${list.join(', ')}`,
        );

    // 5. Admitted usage never exceeded a tenant's limits at any sampled instant.
    const seen = new Set<string>();
    for (const s of observed.quota.overAdmissions) {
      const key = `${s.tenantId}|${[...s.jobIds].sort().join(',')}`;
      if (seen.has(key)) continue;
      seen.add(key);
      add(
        'no-quota-over-admission',
        `tenant ${s.tenantId} at ${new Date(s.at).toISOString()}: ${s.jobs}/${s.maxJobs} jobs, ${s.cpuMillis}/${s.maxCpuMillis}m CPU, ${s.memoryBytes}/${s.maxMemoryBytes} B, ${s.gpu}/${s.maxGpu} GPU (jobs ${s.jobIds.join(', ')})`,
      );
    }

    // 6. The feed: per job, seq 1..n in order, none missing; nothing in `events` skipped.
    const { rows: events } = await db.query<{ position: string; id: string; tenant_id: string }>(
      `select position::text, id::text, tenant_id from events where tenant_id = any($1)`,
      [[...observed.feeds.keys()]],
    );
    for (const [tenant, feed] of observed.feeds) {
      const got = new Set(feed.events.map((e) => e.id));
      const missing = events.filter((e) => e.tenant_id === tenant && !got.has(e.id));
      if (missing.length)
        add(
          'feed-in-order-without-gaps',
          `tenant ${tenant}: ${missing.length} event(s) never reached the SSE feed (positions ${missing
            .slice(0, 10)
            .map((e) => e.position)
            .join(', ')}${missing.length > 10 ? ', …' : ''})`,
        );
      const perJob = new Map<string, number[]>();
      const arrivals = new Map<string, string[]>();
      for (const e of feed.events)
        if (e.jobId && e.seq !== undefined) {
          perJob.set(e.jobId, [...(perJob.get(e.jobId) ?? []), e.seq]);
          arrivals.set(e.jobId, [
            ...(arrivals.get(e.jobId) ?? []),
            `${e.seq}@${e.position} on connection ${e.connection} (resumed after ${feed.resumedAfter[e.connection - 1] ?? '?'})`,
          ]);
        }
      for (const [jobId, seqs] of perJob) {
        for (let i = 1; i < seqs.length; i += 1)
          if (seqs[i]! < seqs[i - 1]!) {
            add(
              'feed-in-order-without-gaps',
              `job ${jobId}: seq ${seqs[i]} arrived after ${seqs[i - 1]} (order ${seqs.join(',')}; seq@position: ${arrivals.get(jobId)!.join(', ')})`,
            );
            break;
          }
      }
      for (const job of jobs.filter((j) => j.tenant_id === tenant)) {
        const seqs = new Set(perJob.get(job.id) ?? []);
        const absent: number[] = [];
        for (let s = 1; s <= job.seq; s += 1) if (!seqs.has(s)) absent.push(s);
        if (!absent.length) continue;
        // Name the history step each missing seq belongs to: what the feed should have said.
        const { rows: steps } = await db.query<{
          seq: number;
          phase: string;
          reason: string | null;
        }>(`select seq, phase, reason from job_history where job_id = $1::uuid and seq = any($2)`, [
          job.id,
          absent,
        ]);
        const what = steps.map((h) => `${h.seq}=${h.phase}/${h.reason ?? '-'}`).join(', ');
        add(
          'feed-in-order-without-gaps',
          `job ${job.id}: seq ${absent.join(',')} of 1..${job.seq} missing from the feed (history: ${what || 'none'})`,
        );
      }
    }

    // 7. Every finishing event reached its webhook (2xx) at least once, under one webhook-id.
    const { rows: finishing } = await db.query<{ id: string; tenant_id: string; type: string }>(
      `select id::text, tenant_id, type from events where type = any($1) and tenant_id = any($2)`,
      [WEBHOOK_TYPES, observed.workload.tenants.map((t) => t.id)],
    );
    const delivered = observed.receiver.delivered();
    for (const e of finishing)
      if (!delivered.has(e.id))
        add(
          'webhooks-delivered',
          `event ${e.id} (${e.type}, tenant ${e.tenant_id}) never delivered to its webhook`,
        );
    const webhookIds = new Map<string, Set<string>>();
    for (const d of observed.receiver.deliveries) {
      const set = webhookIds.get(d.eventId) ?? new Set<string>();
      set.add(d.webhookId);
      webhookIds.set(d.eventId, set);
    }
    for (const [eventId, set] of webhookIds)
      if (set.size > 1)
        add(
          'webhook-id-stable',
          `event ${eventId} was delivered under ${set.size} webhook-ids: ${[...set].join(', ')}`,
        );

    // 8. Every attempt of a finished job that started has its log archived.
    const { rows: archives } = await db.query<{ job_id: string; attempt: number }>(
      `select job_id::text, attempt from log_archives where job_id = any($1::uuid[])`,
      [ids],
    );
    const archived = new Set(archives.map((a) => `${a.job_id}#${a.attempt}`));
    for (const job of jobs) {
      if (!FINAL.has(job.status) || job.started_at === null) continue;
      const absent: number[] = [];
      for (let a = 1; a <= job.attempt; a += 1) if (!archived.has(`${job.id}#${a}`)) absent.push(a);
      if (absent.length)
        add(
          'logs-archived',
          `job ${job.id} (${job.status}/${job.reason ?? '-'}): no log archive for attempt ${absent.join(',')} of ${job.attempt}`,
        );
    }

    // 9. Every accepted failover action finishes.
    if (observed.workload.actions.length) {
      const { rows: actions } = await db.query<{ id: string; state: string }>(
        `select id::text, state::text from actions where id::text = any($1)`,
        [observed.workload.actions],
      );
      const states = new Map(actions.map((a) => [a.id, a.state]));
      for (const id of observed.workload.actions) {
        const state = states.get(id);
        if (state !== 'succeeded' && state !== 'failed')
          add('actions-finish', `action ${id} is ${state ?? 'missing'}`);
      }
    }
    const jobsByStatus: Record<string, number> = {};
    for (const job of jobs) jobsByStatus[job.status] = (jobsByStatus[job.status] ?? 0) + 1;
    return { violations, jobsByStatus };
  } finally {
    await db.end().catch(() => undefined);
  }
}
