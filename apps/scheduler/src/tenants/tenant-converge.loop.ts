import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import type { PrismaClient } from '@roam/db';
import { APP_CONFIG, LOGGER, Loop, type LoopHealth, PRISMA } from '@roam/runtime';
import type { Logger } from 'pino';

import { TenantProvisioner } from './tenant-provisioner.service.js';

/**
 * Level-triggered (docs/architecture.md#rule-3): on a timer, provisions every tenant whose limits are
 * newer than what was applied and finishes every pending deletion. A lost command only delays.
 */
@Injectable()
export class TenantConvergeLoop implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly loop: Loop;

  constructor(
    @Inject(PRISMA) private readonly prisma: PrismaClient,
    private readonly provisioner: TenantProvisioner,
    @Inject(APP_CONFIG) config: { RECONCILE_INTERVAL_MS: number },
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.loop = new Loop({
      name: 'tenant converge pass',
      intervalMs: config.RECONCILE_INTERVAL_MS,
      logger,
      pass: () => this.converge(),
    });
  }

  get health(): LoopHealth {
    return this.loop.health;
  }

  onApplicationBootstrap(): void {
    this.loop.start();
  }

  onModuleDestroy(): Promise<void> {
    return this.loop.stop();
  }

  /** One pass; a tenant that fails is logged and retried next pass, a failed query throws. */
  async converge(): Promise<void> {
    const stale = await this.prisma.$queryRaw<{ id: string; status: string }[]>`
      SELECT id, status::text AS status FROM tenants
      WHERE status = 'deleting' OR provisioned_generation < generation OR status <> 'ready'
      ORDER BY updated_at LIMIT 100`;
    for (const tenant of stale) {
      try {
        if (tenant.status === 'deleting') await this.provisioner.remove(tenant.id);
        else await this.provisioner.provision(tenant.id);
      } catch (error) {
        this.logger.warn({ tenantId: tenant.id, err: error }, 'tenant converge failed');
      }
    }
  }
}
