import { Prisma } from './generated/prisma/client.js';

/**
 * True when `err` is a unique-constraint violation (P2002), optionally of one named constraint
 * (the Postgres index name, e.g. `api_keys_hash_key`) or of one that covers exactly the given
 * columns.
 *
 * Prisma 7 with a driver adapter no longer fills `meta.target`; the database's own description
 * is under `meta.driverAdapterError.cause`, where `constraint` is `{ index }` or `{ fields }`.
 */
export function isUniqueViolation(err: unknown, constraint?: string | readonly string[]): boolean {
  if (!(err instanceof Prisma.PrismaClientKnownRequestError) || err.code !== 'P2002') return false;
  if (constraint === undefined) return true;
  const found = violatedConstraint(err);
  if (found === undefined) return false;
  if (typeof constraint === 'string') {
    return found.index === constraint || sameColumns(found.fields, [constraint]);
  }
  return sameColumns(found.fields, constraint);
}

interface ViolatedConstraint {
  index?: string;
  fields?: readonly string[];
}

function violatedConstraint(
  err: Prisma.PrismaClientKnownRequestError,
): ViolatedConstraint | undefined {
  const adapterError = asRecord(err.meta?.['driverAdapterError']);
  const cause = asRecord(adapterError?.['cause']);
  const constraint = asRecord(cause?.['constraint']);
  if (constraint === undefined) return undefined;
  const index = constraint['index'];
  const fields = constraint['fields'];
  return {
    ...(typeof index === 'string' ? { index } : {}),
    ...(Array.isArray(fields)
      ? { fields: fields.filter((f): f is string => typeof f === 'string') }
      : {}),
  };
}

function sameColumns(actual: readonly string[] | undefined, expected: readonly string[]): boolean {
  if (actual === undefined || actual.length !== expected.length) return false;
  const wanted = new Set(expected.map(unquote));
  return actual.every((column) => wanted.has(unquote(column)));
}

/** Postgres reports quoted identifiers in constraint columns (`"tenant_id"`). */
function unquote(name: string): string {
  return name.replace(/^"(.*)"$/, '$1');
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null
    ? (value as Record<string, unknown>)
    : undefined;
}
