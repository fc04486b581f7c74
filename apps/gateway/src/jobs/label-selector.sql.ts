import { Prisma } from '@roam/db';
import type { LabelRequirement } from '@roam/domain';

/**
 * A parsed label selector as a SQL condition over `jobs.labels` (a jsonb object of strings).
 * Keys and values are bound parameters, never spliced. `->>` yields NULL for a missing key, so
 * `!=`/`notin` (which also match a job without the key) test for NULL explicitly; the
 * in-memory twin of these rules is `matchesLabelSelector` in `@roam/domain`.
 */
export function labelSelectorSql(requirements: readonly LabelRequirement[]): Prisma.Sql {
  const parts = requirements.map((r) => {
    const value = Prisma.sql`(labels ->> ${r.key})`;
    switch (r.operator) {
      case 'exists':
        return Prisma.sql`${value} IS NOT NULL`;
      case 'doesnotexist':
        return Prisma.sql`${value} IS NULL`;
      case 'in':
        return Prisma.sql`${value} IN (${Prisma.join(r.values)})`;
      case 'notin':
        return Prisma.sql`(${value} IS NULL OR ${value} NOT IN (${Prisma.join(r.values)}))`;
    }
  });
  return Prisma.join(parts, ' AND ');
}
