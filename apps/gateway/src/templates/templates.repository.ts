import { Inject, Injectable } from '@nestjs/common';
import { isUniqueViolation, type JobTemplate, type Prisma, type PrismaClient } from '@roam/db';
import { PRISMA } from '@roam/runtime';

import { createWithinCap } from '../tenants/tenant-caps.js';

import type { BuiltinTemplate } from './builtin-templates.js';
import type { TemplateSpec } from './template.schemas.js';

export type TemplateRow = JobTemplate;

const json = (spec: TemplateSpec) => spec as unknown as Prisma.InputJsonValue;

/** Tenant templates and the built-ins (`tenant_id` null) every tenant sees. */
@Injectable()
export class TemplatesRepository {
  constructor(@Inject(PRISMA) private readonly prisma: PrismaClient) {}

  /** The tenant's own templates and the built-ins, by name. */
  listVisible(tenantId: string): Promise<TemplateRow[]> {
    return this.prisma.jobTemplate.findMany({
      where: { OR: [{ tenantId }, { tenantId: null }] },
      orderBy: [{ name: 'asc' }],
    });
  }

  /** The tenant's template of that name, else the built-in one. */
  async findVisible(tenantId: string, name: string): Promise<TemplateRow | undefined> {
    const rows = await this.prisma.jobTemplate.findMany({
      where: { name, OR: [{ tenantId }, { tenantId: null }] },
    });
    return rows.find((row) => row.tenantId === tenantId) ?? rows[0];
  }

  /**
   * Undefined when the tenant already has a template of that name; 429 when it has `max`
   * (see `createWithinCap`).
   */
  async create(
    id: string,
    tenantId: string,
    name: string,
    spec: TemplateSpec,
    max: number,
  ): Promise<TemplateRow | undefined> {
    try {
      return await createWithinCap(
        this.prisma,
        tenantId,
        { max, what: 'templates', variable: 'MAX_TEMPLATES_PER_TENANT' },
        (tx) => tx.jobTemplate.count({ where: { tenantId } }),
        async (tx) =>
          (await tx.jobTemplate.findFirst({ where: { tenantId, name }, select: { id: true } }))
            ? undefined
            : tx.jobTemplate.create({ data: { id, tenantId, name, spec: json(spec) } }),
      );
    } catch (error) {
      if (isUniqueViolation(error)) return undefined;
      throw error;
    }
  }

  async replace(
    tenantId: string,
    name: string,
    spec: TemplateSpec,
  ): Promise<TemplateRow | undefined> {
    const { count } = await this.prisma.jobTemplate.updateMany({
      where: { tenantId, name },
      data: { spec: json(spec) },
    });
    if (count === 0) return undefined;
    return (await this.prisma.jobTemplate.findFirst({ where: { tenantId, name } })) ?? undefined;
  }

  async delete(tenantId: string, name: string): Promise<boolean> {
    const { count } = await this.prisma.jobTemplate.deleteMany({ where: { tenantId, name } });
    return count === 1;
  }

  /** Writes a built-in as the code defines it; safe to run from every booting gateway at once. */
  async upsertBuiltin(template: BuiltinTemplate): Promise<void> {
    try {
      await this.prisma.jobTemplate.upsert({
        where: { id: template.id },
        create: { id: template.id, tenantId: null, name: template.name, spec: json(template.spec) },
        update: { name: template.name, spec: json(template.spec) },
      });
    } catch (error) {
      // Another gateway created it between our read and our insert: it is there, as wanted.
      if (!isUniqueViolation(error)) throw error;
    }
  }
}
