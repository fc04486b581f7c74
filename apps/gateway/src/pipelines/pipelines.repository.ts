import { Inject, Injectable } from '@nestjs/common';
import { type PhaseCounts, phaseCountsOf } from '@roam/contracts';
import type { Pipeline, Prisma, PrismaClient } from '@roam/db';

import type { PipelineState } from './pipeline.schemas.js';
import { PRISMA } from '@roam/runtime';

/** A step as stored, with where its job or array stands. */
export interface StepRow {
  name: string;
  jobId: string | null;
  arrayId: string | null;
  /** A job step's status, phase and reason. */
  job: { status: string; phase: string; reason: string | null } | null;
  dependsOn: { step: string; on: string }[];
  /** Its jobs per phase: the array's counters, or the one job's phase. */
  counts: PhaseCounts;
  size: number;
}

/** Pipelines of one tenant: the row, its steps and where they stand. */
@Injectable()
export class PipelinesRepository {
  constructor(@Inject(PRISMA) readonly prisma: PrismaClient) {}

  async insert(
    tx: Prisma.TransactionClient,
    pipeline: { id: string; tenantId: string; name: string },
    steps: readonly {
      name: string;
      jobId?: string;
      arrayId?: string;
      dependsOn: readonly { step: string; on: string }[];
    }[],
  ): Promise<void> {
    await tx.pipeline.create({
      data: {
        ...pipeline,
        steps: steps.length,
        stepsList: {
          create: steps.map((step, position) => ({
            position,
            name: step.name,
            jobId: step.jobId ?? null,
            arrayId: step.arrayId ?? null,
            dependsOn: step.dependsOn.map((d) => ({ step: d.step, on: d.on })),
          })),
        },
      },
    });
  }

  /**
   * Newest first (ids are UUIDv7), before `before`, through the (tenant_id, id) index; `state`
   * filters on the row's own counters (`pipelineState`).
   */
  list(
    tenantId: string,
    query: { before?: string; state?: PipelineState; limit: number },
  ): Promise<Pipeline[]> {
    const state: Record<PipelineState, Prisma.PipelineWhereInput> = {
      running: { finishedAt: null },
      failed: { finishedAt: { not: null }, failed: { gt: 0 } },
      cancelled: { finishedAt: { not: null }, failed: 0, cancelled: { gt: 0 } },
      succeeded: { finishedAt: { not: null }, failed: 0, cancelled: 0 },
    };
    return this.prisma.pipeline.findMany({
      where: {
        tenantId,
        ...(query.before !== undefined ? { id: { lt: query.before } } : {}),
        ...(query.state !== undefined ? state[query.state] : {}),
      },
      orderBy: { id: 'desc' },
      take: query.limit,
    });
  }

  find(tenantId: string, id: string): Promise<Pipeline | null> {
    return this.prisma.pipeline.findFirst({ where: { id, tenantId } });
  }

  /** Its steps in order, each with its job's state or its array's counters: one statement. */
  async steps(tenantId: string, id: string): Promise<StepRow[]> {
    const rows = await this.prisma.$queryRaw<
      {
        name: string;
        job_id: string | null;
        array_id: string | null;
        depends_on: { step: string; on: string }[];
        status: string | null;
        phase: string | null;
        reason: string | null;
        submitted: number;
        queued: number;
        admitted: number;
        running: number;
        succeeded: number;
        failed: number;
        cancelled: number;
        size: number;
      }[]
    >`
      SELECT s.name, s.job_id::text AS job_id, s.array_id::text AS array_id, s.depends_on,
             j.status::text AS status, j.phase, j.reason,
             coalesce(a.submitted, (j.phase = 'Submitted')::int) AS submitted,
             coalesce(a.queued, (j.phase = 'Queued')::int) AS queued,
             coalesce(a.admitted, (j.phase = 'Admitted')::int) AS admitted,
             coalesce(a.running, (j.phase = 'Running')::int) AS running,
             coalesce(a.succeeded, (j.phase = 'Succeeded')::int) AS succeeded,
             coalesce(a.failed, (j.phase = 'Failed')::int) AS failed,
             coalesce(a.cancelled, (j.phase = 'Cancelled')::int) AS cancelled,
             coalesce(a.size, 1) AS size
      FROM pipeline_steps s
      JOIN pipelines p ON p.id = s.pipeline_id AND p.tenant_id = ${tenantId}
      LEFT JOIN jobs j ON j.id = s.job_id
      LEFT JOIN job_arrays a ON a.id = s.array_id
      WHERE s.pipeline_id = ${id}::uuid
      ORDER BY s.position`;
    return rows.map((row) => ({
      name: row.name,
      jobId: row.job_id,
      arrayId: row.array_id,
      dependsOn: row.depends_on,
      job:
        row.status !== null && row.phase !== null
          ? { status: row.status, phase: row.phase, reason: row.reason }
          : null,
      counts: phaseCountsOf(row),
      size: row.size,
    }));
  }
}
