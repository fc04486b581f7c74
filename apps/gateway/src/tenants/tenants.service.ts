import { Inject, Injectable } from '@nestjs/common';
import type { GatewayConfig } from '@roam/config';
import { createEnvelope, subjects } from '@roam/contracts';
import { isUniqueViolation, type Tenant } from '@roam/db';
import { Outbox } from '@roam/messaging';
import { APP_CONFIG, ProblemError, problemTypes } from '@roam/runtime';

import { ApiKeysRepository, type IssuedKey } from '../auth/api-keys.repository.js';
import { AuthService, unauthorized } from '../auth/auth.service.js';
import type { Principal } from '../auth/principal.js';
import { SOURCE } from '../source.js';
import { createWithinCap } from './tenant-caps.js';
import type { NewTenant, RegisterTenant, UpdateTenant } from './tenant.schemas.js';
import { TenantsRepository } from './tenants.repository.js';
import {
  type TenantUsageView,
  tenantUsageView,
  type TenantView,
  tenantView,
} from './tenant.view.js';

export interface RegisteredTenant extends TenantView {
  api_key: string;
  api_key_id: string;
  message: string;
}

/** The seed's limits: what an admin's registration gets for what it leaves out. */
const SEED_DEFAULTS = {
  max_cpu: 10,
  max_memory_gi: 20,
  max_gpu: 0,
  max_concurrent_jobs: 2,
  weight: 1,
} as const;

/**
 * Fills in what a registration left out. An admin gets the seed's defaults and may ask for
 * anything; a RunPod budget left out is 0 (no spend until an admin sets one; an explicit null
 * is unlimited). Open registration gets the operator's ceilings, and the body may only lower
 * them: a null rate limit or budget means the ceiling, not unlimited.
 */
export function newTenantLimits(
  input: RegisterTenant,
  byAdmin: boolean,
  config: GatewayConfig,
): { tenant: NewTenant; lowered: string[] } {
  if (byAdmin) {
    return {
      tenant: {
        tenant_id: input.tenant_id,
        max_cpu: input.max_cpu ?? SEED_DEFAULTS.max_cpu,
        max_memory_gi: input.max_memory_gi ?? SEED_DEFAULTS.max_memory_gi,
        max_gpu: input.max_gpu ?? SEED_DEFAULTS.max_gpu,
        max_concurrent_jobs: input.max_concurrent_jobs ?? SEED_DEFAULTS.max_concurrent_jobs,
        rate_limit_per_second: input.rate_limit_per_second ?? null,
        results_retention_days: input.results_retention_days ?? null,
        offload_budget_usd: input.offload_budget_usd === undefined ? 0 : input.offload_budget_usd,
        weight: input.weight ?? SEED_DEFAULTS.weight,
      },
      lowered: [],
    };
  }
  const lowered: string[] = [];
  const atMost = (field: keyof RegisterTenant, asked: number | null | undefined, max: number) => {
    if (asked === undefined || asked === null) return max;
    if (asked > max) lowered.push(field);
    return Math.min(asked, max);
  };
  return {
    tenant: {
      tenant_id: input.tenant_id,
      max_cpu: atMost('max_cpu', input.max_cpu, config.OPEN_REGISTRATION_MAX_CPU),
      max_memory_gi: atMost(
        'max_memory_gi',
        input.max_memory_gi,
        config.OPEN_REGISTRATION_MAX_MEMORY_GI,
      ),
      max_gpu: atMost('max_gpu', input.max_gpu, config.OPEN_REGISTRATION_MAX_GPU),
      max_concurrent_jobs: atMost(
        'max_concurrent_jobs',
        input.max_concurrent_jobs,
        config.OPEN_REGISTRATION_MAX_CONCURRENT_JOBS,
      ),
      rate_limit_per_second: atMost(
        'rate_limit_per_second',
        input.rate_limit_per_second,
        config.OPEN_REGISTRATION_RATE_LIMIT_PER_SECOND,
      ),
      results_retention_days: input.results_retention_days ?? null,
      offload_budget_usd: atMost(
        'offload_budget_usd',
        input.offload_budget_usd,
        config.OPEN_REGISTRATION_OFFLOAD_BUDGET_USD,
      ),
      weight: atMost('weight', input.weight, config.OPEN_REGISTRATION_WEIGHT),
    },
    lowered,
  };
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
    private readonly auth: AuthService,
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
    const { tenant: limits, lowered } = newTenantLimits(
      input,
      caller?.kind === 'admin',
      this.config,
    );
    try {
      const { tenant, key } = await this.outbox.transaction(async (tx) => {
        const tenant = await this.tenants.create(tx, limits);
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
        message:
          'Save this API key now: it is stored only as a hash and cannot be shown again.' +
          (lowered.length > 0
            ? ` Lowered to this installation's limits for open registration: ${lowered.join(', ')}.`
            : ''),
      };
    } catch (error) {
      if (isUniqueViolation(error)) {
        const existing = await this.tenants.find(input.tenant_id);
        throw new ProblemError(
          409,
          problemTypes.conflict,
          'Conflict',
          existing?.status === 'deleting'
            ? `tenant "${input.tenant_id}" is being deleted; its id can be registered again once everything it owned is gone`
            : `tenant "${input.tenant_id}" already exists`,
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

  /** What each of these tenants' jobs hold now, by tenant id (absent: nothing). */
  async usage(ids: string[]): Promise<Map<string, TenantUsageView>> {
    const rows = await this.tenants.usage(ids);
    return new Map(rows.map((row) => [row.tenant_id, tenantUsageView(row)]));
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
      const before = await this.tenants.find(id);
      const tenant = await this.tenants.update(tx, id, input);
      // A cohort's pool is its members' guarantees: every member's namespace quota follows it.
      const cohorts = [before?.cohort, tenant.cohort].filter((c): c is string => !!c);
      const others = (await this.tenants.cohortMembers(tx, cohorts)).filter((m) => m !== id);
      await this.tenants.touch(tx, others);
      return {
        result: tenant,
        messages: [id, ...others].map((tenantId) =>
          createEnvelope(subjects.tenant.provision, { tenantId }, { source: SOURCE, tenantId }),
        ),
      };
    });
    this.keys.forget();
    return tenant;
  }

  /** Deletion is refused while the tenant has pending or running jobs. */
  async remove(id: string): Promise<Tenant> {
    const tenant = await this.outbox.transaction(
      async (tx) => {
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
      },
      () => {
        // Before the deletion is published: its streams here end saying why, before the worker
        // removes the keys they were opened with.
        this.keys.forget();
        this.auth.revoked({ kind: 'tenant', tenantId: id });
      },
    );
    return tenant;
  }

  /** Another key for the tenant, refused with 429 once it has `MAX_API_KEYS_PER_TENANT` active ones. */
  async issueKey(tenantId: string, name: string): Promise<IssuedKey> {
    const key = await createWithinCap(
      this.prisma,
      tenantId,
      {
        max: this.config.MAX_API_KEYS_PER_TENANT,
        what: 'active API keys',
        variable: 'MAX_API_KEYS_PER_TENANT',
      },
      (tx) => this.keys.countActive(tx, tenantId),
      (tx) => this.keys.issue(tx, { tenantId, role: 'tenant' }, name),
    );
    this.keys.forget();
    return key;
  }

  /** Revokes one key; listeners hear of it once it committed. False when no such active key. */
  async revokeKey(tenantId: string | null, keyId: string): Promise<boolean> {
    const revoked = await this.keys.revoke(this.prisma, tenantId, keyId);
    if (revoked) this.auth.revoked({ kind: 'key', keyId });
    return revoked;
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
    const { key, revoked } = await this.tenants.prisma.$transaction(async (tx) => {
      const locked = await this.tenants.lock(tx, target);
      if (!locked) throw notFound(`tenant "${target}"`);
      const revoked =
        caller.kind === 'tenant'
          ? (await this.keys.revoke(tx, target, caller.keyId))
            ? [caller.keyId]
            : []
          : await this.keys.revokeAll(tx, target);
      const key = await this.keys.issue(tx, { tenantId: target, role: 'tenant' }, 'default');
      return { key, revoked };
    });
    this.keys.forget();
    for (const keyId of revoked) this.auth.revoked({ kind: 'key', keyId });
    return { tenantId: target, key };
  }
}
