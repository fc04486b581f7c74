import {
  MAX_PRIORITY,
  MAX_PRIORITY_CLASSES,
  MIN_PRIORITY,
  priorityClassNameProblem,
} from '@roam/domain';
import { z } from 'zod';

const name = z.string().superRefine((value, context) => {
  const problem = priorityClassNameProblem(value);
  if (problem) context.addIssue({ code: 'custom', message: problem });
});

/** `PUT /api/v1/admin/priority-classes`: the whole set of admin-defined classes. */
export const putPriorityClassesSchema = z
  .object({
    items: z
      .array(
        z.object({ name, value: z.number().int().min(MIN_PRIORITY).max(MAX_PRIORITY) }).strict(),
      )
      .max(MAX_PRIORITY_CLASSES)
      .superRefine((items, context) => {
        const seen = new Set<string>();
        items.forEach((item, index) => {
          if (seen.has(item.name)) {
            context.addIssue({
              code: 'custom',
              path: [index, 'name'],
              message: `"${item.name}" is named twice`,
            });
          }
          seen.add(item.name);
        });
      }),
  })
  .strict();
export type PutPriorityClasses = z.output<typeof putPriorityClassesSchema>;

export const priorityClassesSchema = z
  .object({
    items: z.array(
      z.object({
        name: z.string(),
        value: z.number().int(),
        builtin: z.boolean().describe('low, normal and high are built in and cannot change.'),
      }),
    ),
  })
  .meta({ id: 'PriorityClasses' });
export type PriorityClassesView = z.infer<typeof priorityClassesSchema>;
