import { Injectable } from '@nestjs/common';
import type { JobSpec } from '@roam/contracts';
import { BUILTIN_PRIORITY_CLASSES, priorityOfClass } from '@roam/domain';
import { ProblemError, problemTypes } from '@roam/runtime';

import { PriorityClassesRepository } from './priority-classes.repository.js';
import type { PriorityClassesView, PutPriorityClasses } from './priority-classes.schemas.js';

/** Submits read the defined classes from a cache this old at most (other gateways' changes). */
const CACHE_TTL_MS = 5000;

@Injectable()
export class PriorityClassesService {
  private cache?: { defined: Record<string, number>; expires: number };

  constructor(private readonly repository: PriorityClassesRepository) {}

  async list(): Promise<PriorityClassesView> {
    const defined = await this.repository.list();
    return {
      items: [
        ...Object.entries(BUILTIN_PRIORITY_CLASSES).map(([name, value]) => ({
          name,
          value,
          builtin: true,
        })),
        ...defined.map((c) => ({ ...c, builtin: false })),
      ],
    };
  }

  async replace(body: PutPriorityClasses): Promise<PriorityClassesView> {
    await this.repository.replace(body.items);
    this.cache = undefined;
    return this.list();
  }

  /**
   * Sets `priority` from `priority_class` on each spec that names one; a 422 naming the known
   * classes when a name is unknown (`where` prefixes the path, e.g. `jobs[3].`).
   */
  async apply(
    specs: readonly JobSpec[],
    where: (index: number) => string = () => '',
  ): Promise<void> {
    if (!specs.some((spec) => spec.priority_class !== undefined)) return;
    const defined = await this.defined();
    specs.forEach((spec, index) => {
      const name = spec.priority_class;
      if (name === undefined) return;
      const value = priorityOfClass(name, defined);
      if (value === undefined) {
        const known = [...Object.keys(BUILTIN_PRIORITY_CLASSES), ...Object.keys(defined)];
        throw new ProblemError(
          422,
          problemTypes.validation,
          'Unknown priority class',
          `${where(index)}priority_class: "${name}" is not a priority class (known: ${known.join(', ')})`,
          {
            errors: [{ path: `${where(index)}priority_class`, message: 'unknown priority class' }],
          },
        );
      }
      spec.priority = value;
    });
  }

  private async defined(): Promise<Record<string, number>> {
    if (this.cache && this.cache.expires > Date.now()) return this.cache.defined;
    const rows = await this.repository.list();
    const defined = Object.fromEntries(rows.map((row) => [row.name, row.value]));
    this.cache = { defined, expires: Date.now() + CACHE_TTL_MS };
    return defined;
  }
}
