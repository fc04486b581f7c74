import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { type JobSpec, jobSpecSchema } from '@roam/contracts';
import { uuidv7 } from '@roam/domain';
import type { GatewayConfig } from '@roam/config';
import { APP_CONFIG, LOGGER, ProblemError, problemTypes, validationProblem } from '@roam/runtime';
import type { Logger } from 'pino';

import { BUILTIN_TEMPLATES } from './builtin-templates.js';
import { mergePatch } from './merge-patch.js';
import type { TemplateSpec } from './template.schemas.js';
import { type TemplateRow, TemplatesRepository } from './templates.repository.js';

const notFound = (name: string) =>
  new ProblemError(404, problemTypes.notFound, 'Not found', `template "${name}" not found`);

const builtinReadOnly = (name: string) =>
  new ProblemError(
    403,
    problemTypes.forbidden,
    'Forbidden',
    `template "${name}" is built in and read-only; create your own under another name`,
  );

const isBuiltinName = (name: string) => BUILTIN_TEMPLATES.some((t) => t.name === name);

/** A job spec resolved from a template, and the template it came from. */
export interface ResolvedSpec {
  spec: JobSpec;
  templateId: string;
}

@Injectable()
export class TemplatesService implements OnApplicationBootstrap {
  constructor(
    private readonly repository: TemplatesRepository,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(APP_CONFIG) private readonly config: GatewayConfig,
  ) {}

  /** Built-ins are code: every boot writes them as this version defines them. */
  async onApplicationBootstrap(): Promise<void> {
    for (const template of BUILTIN_TEMPLATES) await this.repository.upsertBuiltin(template);
    this.logger.debug({ count: BUILTIN_TEMPLATES.length }, 'built-in templates in place');
  }

  list(tenantId: string): Promise<TemplateRow[]> {
    return this.repository.listVisible(tenantId);
  }

  async get(tenantId: string, name: string): Promise<TemplateRow> {
    const row = await this.repository.findVisible(tenantId, name);
    if (!row) throw notFound(name);
    return row;
  }

  async create(tenantId: string, name: string, spec: TemplateSpec): Promise<TemplateRow> {
    // A tenant template may not shadow a built-in: "sumo" must mean the same thing everywhere.
    if (isBuiltinName(name)) {
      throw new ProblemError(
        409,
        problemTypes.conflict,
        'Conflict',
        `"${name}" is the name of a built-in template`,
      );
    }
    const row = await this.repository.create(
      uuidv7(),
      tenantId,
      name,
      spec,
      this.config.MAX_TEMPLATES_PER_TENANT,
    );
    if (!row) {
      throw new ProblemError(
        409,
        problemTypes.conflict,
        'Conflict',
        `template "${name}" already exists`,
      );
    }
    return row;
  }

  async replace(tenantId: string, name: string, spec: TemplateSpec): Promise<TemplateRow> {
    if (isBuiltinName(name)) throw builtinReadOnly(name);
    const row = await this.repository.replace(tenantId, name, spec);
    if (!row) throw notFound(name);
    return row;
  }

  async delete(tenantId: string, name: string): Promise<void> {
    if (isBuiltinName(name)) throw builtinReadOnly(name);
    if (!(await this.repository.delete(tenantId, name))) throw notFound(name);
  }

  /**
   * `{"template": "<name>", ...overrides}` → a JobSpec: the overrides are merge-patched onto
   * the template's job fields, and the result is validated as any submitted spec is.
   */
  async resolve(tenantId: string, body: Record<string, unknown>): Promise<ResolvedSpec> {
    const { template: name, ...overrides } = body;
    if (typeof name !== 'string' || name.length === 0 || name.length > 63) {
      throw new ProblemError(
        400,
        problemTypes.validation,
        'Request validation failed',
        'body: template: must be the name of a template',
        { errors: [{ path: 'template', message: 'must be the name of a template' }] },
      );
    }
    const row = await this.repository.findVisible(tenantId, name);
    if (!row) {
      throw new ProblemError(
        400,
        problemTypes.validation,
        'Request validation failed',
        `body: template: no template named "${name}"`,
        { errors: [{ path: 'template', message: `no template named "${name}"` }] },
      );
    }
    const { results: _results, inputs: _inputs, ...jobFields } = row.spec as TemplateSpec;
    const parsed = jobSpecSchema.safeParse(mergePatch(jobFields, overrides));
    if (!parsed.success) throw validationProblem(`body (template "${name}")`, parsed.error.issues);
    return { spec: parsed.data, templateId: row.id };
  }
}
