import { Inject, Injectable } from '@nestjs/common';
import { type Envelope, type JobSpec, MAX_DEPENDENCIES } from '@roam/contracts';
import {
  type CheckedDependency,
  checkDependencies,
  type Dependent,
  type DependencyCondition,
  type DependencyStanding,
  type DependencyTarget,
  explainDependencies,
  type RequestedDependency,
  SUBMITTED,
} from '@roam/domain';
import {
  addDependencies,
  type DependencyEnd,
  JobLedger,
  type LedgerDb,
  lockDependencyTargets,
} from '@roam/jobs';
import { Outbox } from '@roam/messaging';
import { type FieldError, PRISMA, ProblemError, problemTypes } from '@roam/runtime';
import type { PrismaClient } from '@roam/db';

import { SOURCE } from '../source.js';

/** What one dependent asks for, and where in the request body its `depends_on` is. */
export interface DependencyRequest {
  dependent: Dependent;
  requested: readonly RequestedDependency[];
  /** e.g. `depends_on`, `jobs.3.depends_on`, `steps.1.depends_on`. */
  path: string;
}

/** A dependent (inserted earlier in the transaction) and its checked dependencies. */
export interface DependencyRecord {
  dependent: DependencyEnd;
  /** A single job's name: it is queued as waiting for its dependencies, with an event. */
  jobName?: string;
  dependencies: readonly CheckedDependency[];
}

const notFound = (id: string) =>
  new ProblemError(404, problemTypes.notFound, 'Not found', `job or array ${id} not found`);

/** A spec's `depends_on`, as the domain reads it. */
export const requestedOf = (spec: JobSpec): RequestedDependency[] => spec.depends_on ?? [];

/**
 * Dependencies at submit (docs/pipelines.md): checks what a submit asks for against the
 * tenant's own jobs and arrays (locked until commit, so none ends unseen), then records them
 * with the jobs, in the submit's transaction. Another tenant's id is a 404 like an unknown one.
 */
@Injectable()
export class DependenciesService {
  private readonly ledger: JobLedger;

  constructor(
    @Inject(Outbox) outbox: Outbox,
    @Inject(PRISMA) private readonly prisma: PrismaClient,
  ) {
    this.ledger = new JobLedger(outbox, SOURCE);
  }

  /**
   * What a job's dependencies (its own, and its array's) hold it for, for `/explain`;
   * undefined when none holds it. One read, bounded by `MAX_DEPENDENCIES` per dependent.
   */
  async explain(
    tenantId: string,
    job: { id: string; arrayId: string | null; depsUnmet: number },
  ): Promise<string | undefined> {
    if (job.depsUnmet === 0 && job.arrayId === null) return undefined;
    const rows = await this.prisma.$queryRaw<
      {
        on_job_id: string | null;
        on_array_id: string | null;
        condition: DependencyCondition;
        state: DependencyStanding['state'];
        phase: string | null;
        size: number | null;
        finished: number | null;
      }[]
    >`
      SELECT d.on_job_id::text AS on_job_id, d.on_array_id::text AS on_array_id, d.condition,
             d.state, t.phase, a.size, a.succeeded + a.failed + a.cancelled AS finished
      FROM job_dependencies d
      LEFT JOIN jobs t ON t.id = d.on_job_id
      LEFT JOIN job_arrays a ON a.id = d.on_array_id
      WHERE d.tenant_id = ${tenantId}
        AND (d.job_id = ${job.id}::uuid OR d.array_id = ${job.arrayId}::uuid)
      ORDER BY d.id`;
    return explainDependencies(
      rows.map((row) => ({
        target:
          row.on_array_id !== null
            ? { kind: 'array', id: row.on_array_id, size: row.size ?? 0 }
            : { kind: 'job', id: row.on_job_id ?? '' },
        condition: row.condition,
        state: row.state,
        progress:
          row.on_array_id !== null
            ? { finished: row.finished ?? 0, size: row.size ?? 0 }
            : { phase: row.phase ?? 'unknown' },
      })),
    );
  }

  /**
   * Every request checked (one read for all their targets); a 404 naming the first unknown
   * id, or one 400 listing every other problem by path. `known`: targets created in the same
   * request (a pipeline's steps), not read.
   */
  async check(
    db: LedgerDb,
    tenantId: string,
    requests: readonly DependencyRequest[],
    known: ReadonlyMap<string, DependencyTarget> = new Map(),
  ): Promise<CheckedDependency[][]> {
    const ids = [...new Set(requests.flatMap((r) => r.requested.map((d) => d.job)))].filter(
      (id) => !known.has(id),
    );
    const found = await lockDependencyTargets(db, tenantId, ids);
    const targets = new Map<string, DependencyTarget>(known);
    for (const target of found)
      targets.set(
        target.id,
        target.kind === 'job'
          ? { kind: 'job', id: target.id }
          : { kind: 'array', id: target.id, size: target.size },
      );
    const errors: FieldError[] = [];
    const checked: CheckedDependency[][] = [];
    for (const request of requests) {
      const check = checkDependencies(
        request.dependent,
        request.requested,
        targets,
        MAX_DEPENDENCIES,
      );
      if (check.ok) {
        checked.push(check.dependencies);
        continue;
      }
      const missing = check.missing[0];
      if (missing !== undefined) throw notFound(missing);
      for (const issue of check.issues)
        errors.push({ path: `${request.path}.${issue.index}`, message: issue.message });
    }
    if (errors.length > 0) {
      const first = errors[0]!;
      throw new ProblemError(
        400,
        problemTypes.validation,
        'Request validation failed',
        `body: ${first.path}: ${first.message}`,
        { errors },
      );
    }
    return checked;
  }

  /**
   * Records the dependencies; single jobs left waiting are queued `WaitingForDependency`
   * through the ledger. Returns the events to dispatch after commit.
   */
  async record(
    db: LedgerDb,
    tenantId: string,
    records: readonly DependencyRecord[],
  ): Promise<Envelope[]> {
    const waiting = await addDependencies(
      db,
      tenantId,
      records.flatMap((record) =>
        record.dependencies.map((d) => ({
          dependent: record.dependent,
          on: d.target.kind === 'job' ? { jobId: d.target.id } : { arrayId: d.target.id },
          condition: d.condition,
          ...(d.nToN !== undefined ? { nToN: d.nToN } : {}),
        })),
      ),
    );
    if (waiting.length === 0) return [];
    const names = new Map(
      records.flatMap((r) =>
        'jobId' in r.dependent && r.jobName !== undefined ? [[r.dependent.jobId, r.jobName]] : [],
      ),
    );
    const result = await this.ledger.apply(
      db,
      waiting.map((id) => ({
        job: { id, tenantId, name: names.get(id) ?? id, attempt: 1, seq: 1, state: SUBMITTED },
        events: [
          {
            type: 'queue',
            reason: 'WaitingForDependency',
            message: 'waiting for its dependencies',
          },
        ],
      })),
    );
    return result.envelopes;
  }
}
