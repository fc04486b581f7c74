/**
 * Priority classes name a job's priority (`priority_class: "high"`). The built-in ones cannot be
 * changed; an admin may add others with a value in the same range as a JobSpec's `priority`.
 * Priority ranks a tenant's own jobs and decides which of them a higher one may preempt
 * (`preempt`); it never ranks one tenant against another.
 */
export const BUILTIN_PRIORITY_CLASSES: Readonly<Record<string, number>> = Object.freeze({
  low: -100,
  normal: 0,
  high: 100,
});

export const MIN_PRIORITY = -1000;
export const MAX_PRIORITY = 1000;
/** Admin-defined classes, on top of the built-in ones. */
export const MAX_PRIORITY_CLASSES = 32;
export const PRIORITY_CLASS_NAME = /^[a-z0-9]([-a-z0-9]{0,30}[a-z0-9])?$/;

/** Why `name` cannot be defined by an admin, or undefined when it can. */
export function priorityClassNameProblem(name: string): string | undefined {
  if (!PRIORITY_CLASS_NAME.test(name)) {
    return 'must be 1 to 32 lower-case letters, digits and "-", starting and ending with a letter or digit';
  }
  if (Object.hasOwn(BUILTIN_PRIORITY_CLASSES, name)) return `"${name}" is built in`;
  return undefined;
}

/** The value of a class, built-in or defined, or undefined when there is no such class. */
export function priorityOfClass(
  name: string,
  defined: Readonly<Record<string, number>>,
): number | undefined {
  if (Object.hasOwn(BUILTIN_PRIORITY_CLASSES, name)) return BUILTIN_PRIORITY_CLASSES[name];
  return Object.hasOwn(defined, name) ? defined[name] : undefined;
}
