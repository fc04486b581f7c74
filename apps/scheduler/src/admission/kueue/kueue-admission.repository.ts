import { Inject, Injectable } from '@nestjs/common';
import type { JobSpec } from '@roam/contracts';
import type { Prisma, PrismaClient } from '@roam/db';
import { jobStateOf } from '@roam/domain';
import type { LedgerJob } from '@roam/jobs';
import { PRISMA } from '@roam/runtime';

type Tx = Prisma.TransactionClient;

/** A job Kueue has still to admit or start, with what its Kubernetes Job needs. */
export interface KueueRow {
  job: LedgerJob;
  namespace: string;
  spec: JobSpec;
  inputsKey: string | null;
  /** Set once its (suspended) Kubernetes Job was confirmed created. */
  created: boolean;
}

@Injectable()
export class KueueAdmissionRepository {
  constructor(@Inject(PRISMA) readonly prisma: PrismaClient) {}

  /**
   * Pending jobs of ready tenants whose retry backoff (if any) is over, oldest first: those
   * waiting for Kueue and those admitted but not running yet (Kueue may evict them). Read
   * in the admission transaction, so each row's seq guards the ledger write.
   */
  async pending(tx: Tx, limit: number): Promise<KueueRow[]> {
    const rows = await tx.$queryRaw<
      {
        id: string;
        tenant_id: string;
        namespace: string;
        name: string;
        attempt: number;
        seq: number;
        status: string;
        phase: string;
        reason: string | null;
        spec: JobSpec;
        inputs_key: string | null;
        created: boolean;
      }[]
    >`
      SELECT j.id::text AS id, j.tenant_id, t.namespace, j.name, j.attempt, j.seq,
             j.status::text AS status, j.phase, j.reason, j.spec, j.inputs_key,
             j.placement IS NOT NULL AS created
      FROM jobs j JOIN tenants t ON t.id = j.tenant_id
      WHERE t.status = 'ready' AND j.status = 'pending'
        AND (j.retry_at IS NULL OR j.retry_at <= now())
      ORDER BY j.created_at, j.id LIMIT ${limit}`;
    return rows.map((row) => ({
      job: {
        id: row.id,
        tenantId: row.tenant_id,
        name: row.name,
        attempt: row.attempt,
        seq: row.seq,
        state: jobStateOf(row),
      },
      namespace: row.namespace,
      spec: row.spec,
      inputsKey: row.inputs_key,
      created: row.created,
    }));
  }
}
