import { z } from 'zod';

import { type TemplateSpec, templateSpecSchema } from './template.schemas.js';
import type { TemplateRow } from './templates.repository.js';

const isoTime = z.iso.datetime();

export const templateViewSchema = z
  .object({
    name: z.string(),
    builtin: z.boolean().describe('Built-ins are shared by every tenant and read-only.'),
    spec: templateSpecSchema,
    created_at: isoTime,
    updated_at: isoTime,
  })
  .meta({ id: 'Template' });
export type TemplateView = z.output<typeof templateViewSchema>;

export const templateListSchema = z.object({ items: z.array(templateViewSchema) });

export function templateView(row: TemplateRow): TemplateView {
  return {
    name: row.name,
    builtin: row.tenantId === null,
    spec: row.spec as TemplateSpec,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}
