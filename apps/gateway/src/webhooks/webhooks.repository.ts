import { Inject, Injectable } from '@nestjs/common';
import type { Prisma, PrismaClient, WebhookDelivery, WebhookEndpoint } from '@roam/db';
import { PRISMA } from '@roam/runtime';

import { createWithinCap } from '../tenants/tenant-caps.js';

export interface NewEndpoint {
  id: string;
  tenantId: string;
  url: string;
  events: string[];
  description: string;
  secret: string;
}

/** An endpoint's secrets as stored (sealed, or plaintext from before sealing). */
export interface StoredSecrets {
  id: string;
  secret: string;
  previousSecret: string | null;
}

/** Endpoints and deliveries. Every method takes the tenant id: another tenant's row is not found. */
@Injectable()
export class WebhooksRepository {
  constructor(@Inject(PRISMA) private readonly prisma: PrismaClient) {}

  /** Creates the endpoint unless the tenant already has `max` (429, see `createWithinCap`). */
  create(endpoint: NewEndpoint, max: number): Promise<WebhookEndpoint> {
    return createWithinCap(
      this.prisma,
      endpoint.tenantId,
      { max, what: 'webhook endpoints', variable: 'MAX_WEBHOOKS_PER_TENANT' },
      (tx) => tx.webhookEndpoint.count({ where: { tenantId: endpoint.tenantId } }),
      (tx) => tx.webhookEndpoint.create({ data: endpoint }),
    );
  }

  find(tenantId: string, id: string): Promise<WebhookEndpoint | null> {
    return this.prisma.webhookEndpoint.findFirst({ where: { id, tenantId } });
  }

  list(tenantId: string): Promise<WebhookEndpoint[]> {
    return this.prisma.webhookEndpoint.findMany({
      where: { tenantId },
      orderBy: { createdAt: 'asc' },
      take: 1000,
    });
  }

  /** Conditional on the tenant; returns undefined when there is no such endpoint. */
  async update(
    tenantId: string,
    id: string,
    data: Prisma.WebhookEndpointUpdateManyMutationInput,
    where: Prisma.WebhookEndpointWhereInput = {},
  ): Promise<WebhookEndpoint | undefined> {
    const { count } = await this.prisma.webhookEndpoint.updateMany({
      where: { ...where, id, tenantId },
      data,
    });
    if (count === 0) return undefined;
    return (await this.find(tenantId, id)) ?? undefined;
  }

  async delete(tenantId: string, id: string): Promise<boolean> {
    const { count } = await this.prisma.webhookEndpoint.deleteMany({ where: { id, tenantId } });
    return count > 0;
  }

  createDelivery(delivery: {
    id: string;
    endpointId: string;
    tenantId: string;
    eventId: string;
    eventType: string;
    payload: Prisma.InputJsonValue;
  }): Promise<WebhookDelivery> {
    return this.prisma.webhookDelivery.create({
      data: { ...delivery, status: 'pending', nextAttemptAt: new Date() },
    });
  }

  /** Newest first; deliveries ids are random, so the keyset is (created_at, id). */
  /**
   * Deliveries of one job's events (subject `jobs/<id>`) to any endpoint, newest first; null
   * when the tenant has no such job. Only deliveries made since the job was created are read,
   * along the (tenant_id, created_at) index.
   */
  async jobDeliveries(tenantId: string, jobId: string, limit: number) {
    const job = await this.prisma.job.findFirst({
      where: { id: jobId, tenantId },
      select: { createdAt: true },
    });
    if (!job) return null;
    return this.prisma.webhookDelivery.findMany({
      where: {
        tenantId,
        createdAt: { gte: job.createdAt },
        payload: { path: ['subject'], equals: `jobs/${jobId}` },
      },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: limit,
      include: { attemptsList: { orderBy: { id: 'asc' }, take: 50 } },
    });
  }

  async deliveries(
    tenantId: string,
    endpointId: string,
    query: { status?: 'pending' | 'succeeded' | 'failed'; limit: number; cursor?: string },
  ) {
    let after: { createdAt: Date; id: string } | null = null;
    if (query.cursor) {
      after = await this.prisma.webhookDelivery.findFirst({
        where: { id: query.cursor, tenantId, endpointId },
        select: { createdAt: true, id: true },
      });
    }
    return this.prisma.webhookDelivery.findMany({
      where: {
        tenantId,
        endpointId,
        ...(query.status ? { status: query.status } : {}),
        ...(after
          ? {
              OR: [
                { createdAt: { lt: after.createdAt } },
                { createdAt: after.createdAt, id: { lt: after.id } },
              ],
            }
          : {}),
      },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: query.limit,
      include: { attemptsList: { orderBy: { id: 'asc' }, take: 50 } },
    });
  }

  /** Due again at once with a fresh schedule; the attempt log is kept. */
  async redeliver(
    tenantId: string,
    endpointId: string,
    deliveryId: string,
  ): Promise<WebhookDelivery | undefined> {
    const { count } = await this.prisma.webhookDelivery.updateMany({
      where: { id: deliveryId, endpointId, tenantId },
      data: { status: 'pending', attempts: 0, nextAttemptAt: new Date() },
    });
    if (count === 0) return undefined;
    return this.prisma.webhookDelivery.findUniqueOrThrow({ where: { id: deliveryId } });
  }

  /**
   * Endpoints after `after` (by id) whose secret or previous secret is not sealed under the key
   * `sealedPrefix` names (plaintext or an older key): what the re-encryption pass works on.
   */
  secretsToReseal(after: string, sealedPrefix: string, limit: number): Promise<StoredSecrets[]> {
    return this.prisma.$queryRaw<StoredSecrets[]>`
      SELECT id, secret, previous_secret AS "previousSecret"
      FROM webhook_endpoints
      WHERE id > ${after}::uuid
        AND (NOT starts_with(secret, ${sealedPrefix})
             OR (previous_secret IS NOT NULL AND NOT starts_with(previous_secret, ${sealedPrefix})))
      ORDER BY id
      LIMIT ${limit}`;
  }

  /** Replaces the stored secrets only if they are still `was` (a rotation may have won). */
  async replaceSecrets(was: StoredSecrets, now: Omit<StoredSecrets, 'id'>): Promise<boolean> {
    const count = await this.prisma.$executeRaw`
      UPDATE webhook_endpoints SET secret = ${now.secret}, previous_secret = ${now.previousSecret}
      WHERE id = ${was.id}::uuid AND secret = ${was.secret}
        AND previous_secret IS NOT DISTINCT FROM ${was.previousSecret}`;
    return count === 1;
  }
}
