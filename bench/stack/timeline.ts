/**
 * Per-stage delays of one tenant's jobs: submitted → admitted → Kubernetes Job created →
 * running → succeeded → logs archived / event delivered. Database times come from the jobs
 * row and the job ledger's history; Job creation and delivery from the bench's observers.
 */
import type pg from 'pg';

import { percentile } from '../figures.js';

export interface StageDelay {
  stage: string;
  p50: number;
  p99: number;
  /** Jobs for which both ends of the stage were seen. */
  n: number;
}

export async function stageDelays(
  db: pg.Pool,
  tenant: string,
  kubeCreated: Map<string, number>,
  delivered: Map<string, number>,
): Promise<StageDelay[]> {
  const { rows } = await db.query<{
    id: string;
    submitted: string;
    admitted: string | null;
    running: string | null;
    succeeded: string | null;
    archived: string | null;
  }>(
    `SELECT j.id,
            (extract(epoch FROM j.created_at) * 1000)::float8 AS submitted,
            (extract(epoch FROM j.admitted_at) * 1000)::float8 AS admitted,
            (extract(epoch FROM h.running) * 1000)::float8 AS running,
            (extract(epoch FROM h.succeeded) * 1000)::float8 AS succeeded,
            (extract(epoch FROM l.created_at) * 1000)::float8 AS archived
       FROM jobs j
       LEFT JOIN (SELECT job_id,
                         min(at) FILTER (WHERE phase = 'Running') AS running,
                         min(at) FILTER (WHERE phase = 'Succeeded') AS succeeded
                    FROM job_history WHERE tenant_id = $1 GROUP BY job_id) h ON h.job_id = j.id
       LEFT JOIN log_archives l ON l.job_id = j.id AND l.attempt = 1
      WHERE j.tenant_id = $1`,
    [tenant],
  );
  const num = (v: string | number | null | undefined) =>
    v === null || v === undefined ? undefined : Number(v);
  const stages: [string, (r: (typeof rows)[number]) => [number | undefined, number | undefined]][] =
    [
      ['submitted → admitted', (r) => [num(r.submitted), num(r.admitted)]],
      ['admitted → Kubernetes Job created', (r) => [num(r.admitted), kubeCreated.get(r.id)]],
      ['Job created → running', (r) => [kubeCreated.get(r.id), num(r.running)]],
      ['running → succeeded', (r) => [num(r.running), num(r.succeeded)]],
      ['succeeded → logs archived', (r) => [num(r.succeeded), num(r.archived)]],
      ['succeeded → event delivered', (r) => [num(r.succeeded), delivered.get(r.id)]],
      ['submitted → event delivered (total)', (r) => [num(r.submitted), delivered.get(r.id)]],
    ];
  return stages.map(([stage, ends]) => {
    const delays: number[] = [];
    for (const row of rows) {
      const [from, to] = ends(row);
      if (from !== undefined && to !== undefined) delays.push(to - from);
    }
    delays.sort((a, b) => a - b);
    return { stage, p50: percentile(delays, 50), p99: percentile(delays, 99), n: delays.length };
  });
}
