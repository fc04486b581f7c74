import { Inject, Injectable } from '@nestjs/common';
import type { GatewayConfig } from '@roam/config';
import { createEnvelope, subjects } from '@roam/contracts';
import { isUniqueViolation, type Tenant } from '@roam/db';
import { Outbox } from '@roam/messaging';
import { APP_CONFIG, ProblemError, problemTypes } from '@roam/runtime';

import { ApiKeysRepository, type IssuedKey } from '../auth/api-keys.repository.js';
import { unauthorized } from '../auth/auth.service.js';
import type { Principal } from '../auth/principal.js';
import { SOURCE } from '../source.js';
import type { RegisterTenant, UpdateTenant } from './tenant.schemas.js';
import { TenantsRepository } from './tenants.repository.js';
import { type TenantView, tenantView } from './tenant.view.js';

export interface RegisteredTenant extends TenantView {
  api_key: string;
  api_key_id: string;
  message: string;
}

export const notFound = (what: string) =>
  new ProblemError(404, problemTypes.notFound, 'Not found', `${what} not found`);

@Injectable()
export class TenantsService {
  constructor(
    private readonly tenants: TenantsRepository,
    private readonly keys: ApiKeysRepository,
    @Inject(Outbox) private readonly outbox: Outbox,
    @Inject(APP_CONFIG) private readonly config: GatewayConfig,
  ) {}

  get prisma() {
    return this.tenants.prisma;
  }

  /**
   * Creates the tenant and its first key, and asks the scheduler to provision its namespace,
   * all in one transaction. The key is returned here and never again.
   */
  async register(input: RegisterTenant, caller: Principal | undefined): Promise<RegisteredTenant> {
    if (this.config.ROAM_REGISTRATION === 'admin' && caller?.kind !== 'admin') {
      if (!caller)
        throw unauthorized('registration needs an admin key on this installation', false);
      throw new ProblemError(
        403,
        problemTypes.forbidden,
        'Forbidden',
        'registration needs an admin key on this installation',
      );
    }
    try {
      const { tenant, key } = await this.outbox.transaction(async (tx) => {
        const tenant = await this.tenants.create(tx, input);
        const key = await this.keys.issue(tx, { tenantId: tenant.id, role: 'tenant' }, 'default');
        return {
          result: { tenant, key },
          messages: [
            createEnvelope(
              subjects.tenant.provision,
              { tenantId: tenant.id },
              { source: SOURCE, tenantId: tenant.id },
            ),
            createEnvelope(
              subjects.tenant.created,
              { tenantId: tenant.id, status: tenant.status },
              { source: SOURCE, tenantId: tenant.id, subject: `tenants/${tenant.id}` },
            ),
          ],
        };
      });
      return {
        ...tenantView(tenant),
        api_key: key.key,
        api_key_id: key.id,
        message: 'Save this API key now: it is stored only as a hash and cannot be shown again.',
      };
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw new ProblemError(
          409,
          problemTypes.conflict,
          'Conflict',
          `tenant "${input.tenant_id}" already exists`,
        );
      }
      throw error;
    }
  }

  /** Admins see every tenant; a tenant sees only itself (another tenant is a 404, not a 403). */
  async get(id: string, caller: Principal): Promise<Tenant> {
    if (caller.kind === 'tenant' && caller.tenantId !== id) throw notFound(`tenant "${id}"`);
    const tenant = await this.tenants.find(id);
    if (!tenant) throw notFound(`tenant "${id}"`);
    return tenant;
  }

  list(limit: number, cursor?: string): Promise<Tenant[]> {
    return this.tenants.list(limit, cursor);
  }

  async update(id: string, input: UpdateTenant): Promise<Tenant> {
    const tenant = await this.outbox.transaction(async (tx) => {
      const locked = await this.tenants.lock(tx, id);
      if (!locked) throw notFound(`tenant "${id}"`);
      if (locked.status === 'deleting') {
        throw new ProblemError(
          409,
          problemTypes.conflict,
          'Conflict',
          `tenant "${id}" is being deleted`,
        );
      }
      const tenant = await this.tenants.update(tx, id, input);
      return {
        result: tenant,
        messages: [
          createEnvelope(
            subjects.tenant.provision,
            { tenantId: id },
            { source: SOURCE, tenantId: id },
          ),
        ],
      };
    });
    this.keys.forget();
    return tenant;
  }

  /** Deletion is refused while the tenant has pending or running jobs. */
  async remove(id: string): Promise<Tenant> {
    const tenant = await this.outbox.transaction(async (tx) => {
      const locked = await this.tenants.lock(tx, id);
      if (!locked) throw notFound(`tenant "${id}"`);
      const unfinished = await this.tenants.countUnfinishedJobs(tx, id);
      if (unfinished > 0) {
        throw new ProblemError(
          409,
          problemTypes.conflict,
          'Conflict',
          `tenant "${id}" has ${unfinished} pending or running job(s); cancel them or wait for them to finish`,
          { unfinished_jobs: unfinished },
        );
      }
      const tenant = await this.tenants.markDeleting(tx, id);
      return {
        result: tenant,
        messages: [
          createEnvelope(
            subjects.tenant.delete,
            { tenantId: id },
            { source: SOURCE, tenantId: id },
          ),
        ],
      };
    });
    this.keys.forget();
    return tenant;
  }

  /**
   * SUMO-K8 `POST /auth/regenerate-key`: a tenant replaces the key it calls with; an admin
   * replaces every key of the named tenant.
   */
  async regenerateKey(
    caller: Principal,
    tenantId: string | undefined,
  ): Promise<{ tenantId: string; key: IssuedKey }> {
    const target = caller.kind === 'tenant' ? caller.tenantId : tenantId;
    if (!target) {
      throw new ProblemError(
        400,
        problemTypes.validation,
        'Request validation failed',
        'body: tenant_id: required for an admin',
      );
    }
    if (caller.kind === 'tenant' && tenantId !== undefined && tenantId !== caller.tenantId) {
      throw notFound(`tenant "${tenantId}"`);
    }
    const key = await this.tenants.prisma.$transaction(async (tx) => {
      const locked = await this.tenants.lock(tx, target);
      if (!locked) throw notFound(`tenant "${target}"`);
      if (caller.kind === 'tenant') await this.keys.revoke(tx, target, caller.keyId);
      else await this.keys.revokeAll(tx, target);
      return this.keys.issue(tx, { tenantId: target, role: 'tenant' }, 'default');
    });
    this.keys.forget();
    return { tenantId: target, key };
  }
}
