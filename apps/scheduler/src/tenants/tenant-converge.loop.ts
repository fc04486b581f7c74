import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import type { PrismaClient } from '@roam/db';
import { APP_CONFIG, LOGGER, PRISMA } from '@roam/runtime';
import type { Logger } from 'pino';

import { TenantProvisioner } from './tenant-provisioner.service.js';

/**
 * Level-triggered (docs/architecture.md#rule-3): on a timer, provisions every tenant whose limits are
 * newer than what was applied and finishes every pending deletion. A lost command only delays.
 */
@Injectable()
export class TenantConvergeLoop implements OnApplicationBootstrap, OnModuleDestroy {
  private timer: NodeJS.Timeout | undefined;
  private pass: Promise<void> = Promise.resolve();

  constructor(
    @Inject(PRISMA) private readonly prisma: PrismaClient,
    private readonly provisioner: TenantProvisioner,
    @Inject(APP_CONFIG) private readonly config: { RECONCILE_INTERVAL_MS: number },
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => {
      this.pass = this.pass.then(() => this.converge());
    }, this.config.RECONCILE_INTERVAL_MS);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.pass;
  }

  async converge(): Promise<void> {
    try {
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
    } catch (error) {
      this.logger.warn({ err: error }, 'tenant converge pass failed');
    }
  }
}
