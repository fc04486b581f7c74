import { Inject, Injectable } from '@nestjs/common';
import { createEnvelope, subjects } from '@roam/contracts';
import type { PrismaClient, Tenant } from '@roam/db';
import { containerDefaults, quotaHard } from '@roam/domain';
import { Kube, tenantLabels } from '@roam/kube';
import { Outbox } from '@roam/messaging';
import type { ObjectStore } from '@roam/object-store';
import { APP_CONFIG, LOGGER, OBJECT_STORE, PRISMA } from '@roam/runtime';
import type { Logger } from 'pino';

import { RESULTS_CLAIM } from '../admission/job-files.js';
import type { SchedulerConfig } from '../scheduler.config.js';
import { SOURCE } from '../source.js';

export const QUOTA_NAME = 'roam-quota';
export const LIMIT_RANGE_NAME = 'roam-limits';

export type ProvisionOutcome = 'ready' | 'stale' | 'gone' | 'deleting';

/**
 * Brings a tenant's Kubernetes objects to its current limits: namespace `roam-<tenant>`, a
 * ResourceQuota and a LimitRange, and in PVC mode the `roam-results` claim its jobs keep
 * inputs and results on. Idempotent (create-or-adopt, then merge-patch), and guarded
 * by the tenant's `generation`, so a slow run for old limits never marks newer ones ready.
 */
@Injectable()
export class TenantProvisioner {
  constructor(
    @Inject(PRISMA) private readonly prisma: PrismaClient,
    private readonly kube: Kube,
    @Inject(Outbox) private readonly outbox: Outbox,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(APP_CONFIG) private readonly config: SchedulerConfig,
    @Inject(OBJECT_STORE) private readonly store: ObjectStore | null,
  ) {}

  async provision(tenantId: string): Promise<ProvisionOutcome> {
    const tenant = await this.prisma.tenant.findUnique({ where: { id: tenantId } });
    if (!tenant) return 'gone';
    if (tenant.status === 'deleting') return 'deleting';
    try {
      await this.apply(tenant);
    } catch (error) {
      await this.recordFailure(tenant, error);
      throw error;
    }
    return this.outbox.transaction(async (tx) => {
      const { count } = await tx.tenant.updateMany({
        where: { id: tenantId, generation: tenant.generation, status: { not: 'deleting' } },
        data: { status: 'ready', statusReason: null, provisionedGeneration: tenant.generation },
      });
      if (count === 0) return { result: 'stale' as const, messages: [] };
      this.logger.info({ tenantId, generation: tenant.generation }, 'tenant provisioned');
      return {
        result: 'ready' as const,
        messages: [
          createEnvelope(
            subjects.tenant.ready,
            { tenantId, status: 'ready' },
            { source: SOURCE, tenantId, subject: `tenants/${tenantId}` },
          ),
        ],
      };
    });
  }

  /** Deletes the namespace (Kubernetes removes what is in it), then the tenant and its records. */
  async remove(tenantId: string): Promise<'deleted' | 'gone' | 'not-deleting'> {
    const tenant = await this.prisma.tenant.findUnique({ where: { id: tenantId } });
    if (!tenant) return 'gone';
    if (tenant.status !== 'deleting') return 'not-deleting';
    await this.kube.delete(
      { apiVersion: 'v1', kind: 'Namespace', name: tenant.namespace },
      'Background',
    );
    return this.outbox.transaction(async (tx) => {
      await tx.jobHistory.deleteMany({ where: { tenantId } });
      await tx.job.deleteMany({ where: { tenantId } });
      const { count } = await tx.tenant.deleteMany({ where: { id: tenantId, status: 'deleting' } });
      if (count === 0) return { result: 'gone' as const, messages: [] };
      this.logger.info({ tenantId }, 'tenant deleted');
      return {
        result: 'deleted' as const,
        messages: [
          createEnvelope(
            subjects.tenant.deleted,
            { tenantId, status: 'deleted' },
            { source: SOURCE, tenantId, subject: `tenants/${tenantId}` },
          ),
        ],
      };
    });
  }

  private async apply(tenant: Tenant): Promise<void> {
    const labels = tenantLabels(tenant.id);
    await this.kube.createOrAdopt({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: tenant.namespace, labels },
    });
    await this.kube.upsert({
      apiVersion: 'v1',
      kind: 'ResourceQuota',
      metadata: { name: QUOTA_NAME, namespace: tenant.namespace, labels },
      spec: {
        hard: quotaHard({
          cpuMillis: tenant.maxCpuMillis,
          memoryBytes: Number(tenant.maxMemoryBytes),
          gpu: tenant.maxGpu,
          maxConcurrentJobs: tenant.maxConcurrentJobs,
        }),
      },
    });
    await this.kube.upsert({
      apiVersion: 'v1',
      kind: 'LimitRange',
      metadata: { name: LIMIT_RANGE_NAME, namespace: tenant.namespace, labels },
      spec: { limits: [{ type: 'Container', ...containerDefaults }] },
    });
    if (this.store?.kind === 'pvc') {
      // Created once and left alone: a claim's spec is immutable but for growing it.
      await this.kube.createOrAdopt({
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        metadata: { name: RESULTS_CLAIM, namespace: tenant.namespace, labels },
        spec: {
          accessModes: ['ReadWriteMany'],
          resources: { requests: { storage: this.config.RESULTS_PVC_SIZE } },
          ...(this.config.RESULTS_PVC_STORAGE_CLASS
            ? { storageClassName: this.config.RESULTS_PVC_STORAGE_CLASS }
            : {}),
        },
      });
    }
  }

  private async recordFailure(tenant: Tenant, error: unknown): Promise<void> {
    const reason = `provisioning failed: ${(error as Error)?.message ?? String(error)}`.slice(
      0,
      500,
    );
    this.logger.warn({ tenantId: tenant.id, err: error }, 'tenant provisioning failed; will retry');
    await this.outbox.transaction(async (tx) => {
      const { count } = await tx.tenant.updateMany({
        where: {
          id: tenant.id,
          generation: tenant.generation,
          status: { in: ['provisioning', 'error'] },
        },
        data: { status: 'error', statusReason: reason },
      });
      return {
        result: undefined,
        messages:
          count === 0
            ? []
            : [
                createEnvelope(
                  subjects.tenant.failed,
                  { tenantId: tenant.id, status: 'error', reason },
                  { source: SOURCE, tenantId: tenant.id, subject: `tenants/${tenant.id}` },
                ),
              ],
      };
    });
  }
}
