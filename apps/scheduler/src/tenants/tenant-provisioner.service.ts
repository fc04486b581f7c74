import { Inject, Injectable } from '@nestjs/common';
import { createEnvelope, subjects } from '@roam/contracts';
import { countsByType, type PrismaClient, type Tenant } from '@roam/db';
import {
  containerLimits,
  type EphemeralStoragePolicy,
  namespaceOwnershipProblem,
  ceilingLimits,
  type KueueTenant,
  quotaHard,
  resourceFlavor,
  type Resources,
  type TenantLimits,
  tenantClusterQueue,
  tenantFlavors,
  tenantLocalQueue,
} from '@roam/domain';
import { Kube, ROAM_LABELS, tenantLabels } from '@roam/kube';
import { Outbox } from '@roam/messaging';
import { type ObjectStore, tenantObjectsPrefix } from '@roam/object-store';
import { APP_CONFIG, LOGGER, OBJECT_STORE, PRISMA } from '@roam/runtime';
import type { Logger } from 'pino';

import { RESULTS_CLAIM } from '../admission/job-files.js';
import { DEFAULT_QUEUE } from '../admission/job-manifest.js';
import type { SchedulerConfig } from '../scheduler.config.js';
import { SOURCE } from '../source.js';
import {
  NETWORK_POLICY_NAME,
  podSecurityLabels,
  type TenantIsolation,
  tenantIsolationOf,
  tenantNetworkPolicy,
} from './tenant-isolation.js';

export const QUOTA_NAME = 'roam-quota';
/** Cluster-scoped objects roam writes for all tenants (ResourceFlavors). */
const MANAGED = { [ROAM_LABELS.managedBy]: 'roam' };
export const LIMIT_RANGE_NAME = 'roam-limits';

export type ProvisionOutcome = 'ready' | 'stale' | 'gone' | 'deleting' | 'failed';
export type RemoveOutcome = 'deleted' | 'in-progress' | 'gone' | 'not-deleting';
const DELETE_BATCH = 1000;

/** What of a tenant row its Kueue ClusterQueue is made of. */
export function kueueTenantOf(tenant: Tenant): KueueTenant {
  const borrowingLimit: Partial<Resources> = {};
  if (tenant.borrowCpuMillis !== null) borrowingLimit.cpuMillis = tenant.borrowCpuMillis;
  if (tenant.borrowMemoryBytes !== null)
    borrowingLimit.memoryBytes = Number(tenant.borrowMemoryBytes);
  if (tenant.borrowGpu !== null) borrowingLimit.gpu = tenant.borrowGpu;
  return {
    limits: {
      cpuMillis: tenant.maxCpuMillis,
      memoryBytes: Number(tenant.maxMemoryBytes),
      gpu: tenant.maxGpu,
      maxConcurrentJobs: tenant.maxConcurrentJobs,
    },
    gpuByType: countsByType(tenant.maxGpuByType) ?? null,
    tpu: tenant.maxTpu,
    tpuByType: countsByType(tenant.maxTpuByType) ?? null,
    cohort: tenant.cohort,
    borrowingLimit,
  };
}

/** Provisioning cannot go on until an admin acts: retrying would change nothing. */
class NamespaceNotOwned extends Error {}

/**
 * Brings a tenant's Kubernetes objects to its current limits: namespace `roam-<tenant>` with
 * its Pod Security labels, the isolating NetworkPolicy, a ResourceQuota and a LimitRange, and in PVC mode the `roam-results` claim its jobs keep
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
  ) {
    this.disk = {
      defaultRequest: config.TENANT_EPHEMERAL_STORAGE_DEFAULT_REQUEST,
      defaultLimit: config.TENANT_EPHEMERAL_STORAGE_DEFAULT_LIMIT,
      max: config.TENANT_EPHEMERAL_STORAGE_MAX,
      perJob: config.TENANT_EPHEMERAL_STORAGE_PER_JOB,
    };
    this.isolation = tenantIsolationOf(config);
  }

  private readonly disk: EphemeralStoragePolicy;
  private readonly isolation: TenantIsolation;

  async provision(tenantId: string): Promise<ProvisionOutcome> {
    const tenant = await this.prisma.tenant.findUnique({ where: { id: tenantId } });
    if (!tenant) return 'gone';
    if (tenant.status === 'deleting') return 'deleting';
    try {
      await this.apply(tenant);
    } catch (error) {
      if (error instanceof NamespaceNotOwned) {
        await this.recordFailure(tenant, 'failed', error.message);
        return 'failed';
      }
      await this.recordFailure(
        tenant,
        'error',
        `provisioning failed: ${(error as Error)?.message ?? String(error)}`,
      );
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

  /**
   * Removes everything the tenant owned, then its tombstone row (status `deleting`), which
   * keeps the id from being registered again until this finished. Every step is idempotent,
   * so a crash anywhere is resumed by the next command or converge pass:
   * 1. its keys, so nothing authenticates as it any more;
   * 2. its namespace, when roam made it for this tenant (Kubernetes removes what is in it);
   *    a namespace that is not the tenant's is left alone;
   * 3. its rows, in batches: jobs (with history, result and log records), webhook deliveries,
   *    events, idempotency keys, offloads, templates and webhook endpoints;
   * 4. its objects under `tenants/<id>/` in object storage;
   * 5. once the namespace is gone, the tenant row; the foreign keys cascade whatever was
   *    written meanwhile, and `tenant.deleted` is announced without a tenant, so a new owner
   *    of the id never sees it.
   */
  async remove(tenantId: string): Promise<RemoveOutcome> {
    const tenant = await this.prisma.tenant.findUnique({ where: { id: tenantId } });
    if (!tenant) return 'gone';
    if (tenant.status !== 'deleting') return 'not-deleting';
    await this.prisma.apiKey.deleteMany({ where: { tenantId } });
    await this.removeClusterQueue(tenant);
    const namespaceLeft = await this.removeNamespace(tenant);
    await this.removeRows(tenantId);
    if (this.store) await this.store.removePrefix(tenantObjectsPrefix(tenantId));
    if (namespaceLeft) {
      this.logger.info({ tenantId }, 'tenant deletion waits for its namespace to go');
      return 'in-progress';
    }
    return this.outbox.transaction(async (tx) => {
      const { count } = await tx.tenant.deleteMany({ where: { id: tenantId, status: 'deleting' } });
      if (count === 0) return { result: 'gone' as const, messages: [] };
      this.logger.info({ tenantId }, 'tenant deleted');
      return {
        result: 'deleted' as const,
        messages: [
          createEnvelope(
            subjects.tenant.deleted,
            { tenantId, status: 'deleted' },
            { source: SOURCE, subject: `tenants/${tenantId}` },
          ),
        ],
      };
    });
  }

  /** True while the tenant's own namespace still exists (deletion asked for, not done yet). */
  private async removeNamespace(tenant: Tenant): Promise<boolean> {
    const ref = { apiVersion: 'v1', kind: 'Namespace', name: tenant.namespace };
    const namespace = await this.kube.get(ref);
    if (!namespace) return false;
    if (namespaceOwnershipProblem(tenant.namespace, namespace.metadata?.labels, tenant.id)) {
      this.logger.warn(
        { tenantId: tenant.id, namespace: tenant.namespace },
        "namespace is not this tenant's; left untouched",
      );
      return false;
    }
    await this.kube.delete(ref, 'Background');
    return (await this.kube.get(ref)) !== undefined;
  }

  /** Deletes the tenant's rows table by table, in batches, so no transaction grows with the tenant. */
  private async removeRows(tenantId: string): Promise<void> {
    const principal = `tenant:${tenantId}`;
    const batches = [
      // History, result files and log archives go with their job (ON DELETE CASCADE).
      () => this.prisma.$executeRaw`DELETE FROM jobs WHERE id IN (
        SELECT id FROM jobs WHERE tenant_id = ${tenantId} LIMIT ${DELETE_BATCH})`,
      () => this.prisma.$executeRaw`DELETE FROM webhook_deliveries WHERE id IN (
        SELECT id FROM webhook_deliveries WHERE tenant_id = ${tenantId} LIMIT ${DELETE_BATCH})`,
      () => this.prisma.$executeRaw`DELETE FROM events WHERE position IN (
        SELECT position FROM events WHERE tenant_id = ${tenantId} LIMIT ${DELETE_BATCH})`,
      () => this.prisma.$executeRaw`DELETE FROM idempotency_keys WHERE (principal, key) IN (
        SELECT principal, key FROM idempotency_keys WHERE principal = ${principal} LIMIT ${DELETE_BATCH})`,
      () => this.prisma.$executeRaw`DELETE FROM offloads WHERE id IN (
        SELECT id FROM offloads WHERE tenant_id = ${tenantId} LIMIT ${DELETE_BATCH})`,
    ];
    for (const batch of batches) while ((await batch()) > 0);
    await this.prisma.jobTemplate.deleteMany({ where: { tenantId } });
    await this.prisma.webhookEndpoint.deleteMany({ where: { tenantId } });
  }

  /**
   * What the namespace's ResourceQuota allows: the tenant's limits, or for a cohort member its
   * guarantee plus borrowing limit within the cohort's pool, so Kubernetes admits the pods of
   * what roam admits as borrowed (docs/scheduling.md#borrowing). A change to any member's
   * limits re-provisions every member, so the pool is read fresh here.
   */
  private async quotaLimits(tenant: Tenant): Promise<TenantLimits> {
    const limits: TenantLimits = {
      cpuMillis: tenant.maxCpuMillis,
      memoryBytes: Number(tenant.maxMemoryBytes),
      gpu: tenant.maxGpu,
      maxConcurrentJobs: tenant.maxConcurrentJobs,
    };
    if (tenant.cohort === null) return limits;
    const pool = await this.prisma.tenant.aggregate({
      where: { cohort: tenant.cohort },
      _sum: { maxCpuMillis: true, maxMemoryBytes: true, maxGpu: true },
    });
    const borrowingLimit: Partial<Resources> = {};
    if (tenant.borrowCpuMillis !== null) borrowingLimit.cpuMillis = tenant.borrowCpuMillis;
    if (tenant.borrowMemoryBytes !== null)
      borrowingLimit.memoryBytes = Number(tenant.borrowMemoryBytes);
    if (tenant.borrowGpu !== null) borrowingLimit.gpu = tenant.borrowGpu;
    return ceilingLimits(
      { limits, borrowingLimit },
      {
        guarantee: {
          cpuMillis: pool._sum.maxCpuMillis ?? limits.cpuMillis,
          memoryBytes: Number(pool._sum.maxMemoryBytes ?? limits.memoryBytes),
          gpu: pool._sum.maxGpu ?? limits.gpu,
        },
      },
    );
  }

  private async apply(tenant: Tenant): Promise<void> {
    const labels = tenantLabels(tenant.id);
    const { object: namespace } = await this.kube.createOrAdopt({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: {
        name: tenant.namespace,
        labels: { ...labels, ...podSecurityLabels(this.isolation) },
      },
    });
    const problem = namespaceOwnershipProblem(
      tenant.namespace,
      namespace.metadata?.labels,
      tenant.id,
    );
    if (problem) throw new NamespaceNotOwned(problem);
    // Labelled on every pass: an adopted namespace, or a changed level, converges too.
    await this.kube.upsert({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: {
        name: tenant.namespace,
        labels: { ...labels, ...podSecurityLabels(this.isolation) },
      },
    });
    await this.applyNetworkPolicy(tenant.namespace, labels);
    await this.kube.upsert({
      apiVersion: 'v1',
      kind: 'ResourceQuota',
      metadata: { name: QUOTA_NAME, namespace: tenant.namespace, labels },
      spec: {
        hard: quotaHard(await this.quotaLimits(tenant), this.disk),
      },
    });
    await this.kube.upsert({
      apiVersion: 'v1',
      kind: 'LimitRange',
      metadata: { name: LIMIT_RANGE_NAME, namespace: tenant.namespace, labels },
      spec: { limits: [containerLimits(this.disk)] },
    });
    if (this.config.ROAM_ADMISSION === 'kueue') await this.applyKueue(tenant, labels);
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

  /**
   * ROAM_ADMISSION=kueue: the tenant's ClusterQueue (its limits as nominal quota; in its roam
   * cohort's Kueue cohort with its borrowing limit, or capped in the shared cohort; per-type
   * GPU and TPU quotas in their flavors, docs/scheduling.md#kueue-quota), unless the operator
   * maps every tenant onto KUEUE_CLUSTER_QUEUE, and the LocalQueue its jobs are queued in. The
   * ResourceFlavors it names are written first (shared by tenants, labelled as roam's, never
   * removed: another tenant may name them). Merge-patched on every pass, so changes converge.
   */
  private async applyKueue(tenant: Tenant, labels: Record<string, string>): Promise<void> {
    const clusterQueue = this.config.KUEUE_CLUSTER_QUEUE ?? tenant.namespace;
    if (!this.config.KUEUE_CLUSTER_QUEUE) {
      const kueueTenant = kueueTenantOf(tenant);
      for (const flavor of tenantFlavors(kueueTenant))
        await this.kube.upsert(resourceFlavor(flavor, MANAGED));
      await this.kube.upsert(
        tenantClusterQueue(kueueTenant, this.disk, {
          name: clusterQueue,
          namespace: tenant.namespace,
          cohort: this.config.KUEUE_COHORT,
          flavor: this.config.KUEUE_FLAVOR,
          labels,
          // The presigned URLs of a job's pod are minted when Kueue reserves its quota.
          admissionChecks: [this.config.KUEUE_ADMISSION_CHECK],
        }),
      );
    }
    await this.kube.upsert(tenantLocalQueue(DEFAULT_QUEUE, tenant.namespace, clusterQueue, labels));
  }

  /** The tenant's own ClusterQueue (cluster-scoped: the namespace's deletion does not take it). */
  private async removeClusterQueue(tenant: Tenant): Promise<void> {
    if (this.config.ROAM_ADMISSION !== 'kueue' || this.config.KUEUE_CLUSTER_QUEUE) return;
    const ref = {
      apiVersion: 'kueue.x-k8s.io/v1beta1',
      kind: 'ClusterQueue',
      name: tenant.namespace,
    };
    const queue = await this.kube.get(ref);
    // Only one roam made for this tenant.
    if (queue?.metadata?.labels?.[ROAM_LABELS.tenant] !== tenant.id) return;
    await this.kube.delete(ref, 'Background');
  }

  /**
   * Tenant pods reach the internet and their own namespace, nothing of the cluster
   * (docs/security.md#tenant-pods). Turned off, an earlier policy is removed, so the setting
   * is what the namespace has.
   */
  private async applyNetworkPolicy(
    namespace: string,
    labels: Record<string, string>,
  ): Promise<void> {
    if (this.isolation.networkPolicy) {
      await this.kube.upsert(tenantNetworkPolicy(namespace, labels, this.isolation));
      return;
    }
    await this.kube.delete({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      name: NETWORK_POLICY_NAME,
      namespace,
    });
  }

  /**
   * `error` is retried (a Kubernetes failure); `failed` waits for an admin and is re-checked on
   * every converge pass. Announced once per change of status or reason.
   */
  private async recordFailure(
    tenant: Tenant,
    status: 'error' | 'failed',
    why: string,
  ): Promise<void> {
    const reason = why.slice(0, 500);
    this.logger.warn({ tenantId: tenant.id, reason }, `tenant provisioning ${status}`);
    await this.outbox.transaction(async (tx) => {
      const { count } = await tx.tenant.updateMany({
        where: {
          id: tenant.id,
          generation: tenant.generation,
          status: { in: ['provisioning', 'error', 'failed'] },
          NOT: { status, statusReason: reason },
        },
        data: { status, statusReason: reason },
      });
      return {
        result: undefined,
        messages:
          count === 0
            ? []
            : [
                createEnvelope(
                  subjects.tenant.failed,
                  { tenantId: tenant.id, status, reason },
                  { source: SOURCE, tenantId: tenant.id, subject: `tenants/${tenant.id}` },
                ),
              ],
      };
    });
  }
}
