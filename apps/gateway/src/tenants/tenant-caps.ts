import type { Prisma, PrismaClient } from '@roam/db';
import { ProblemError, problemTypes } from '@roam/runtime';

/** How long a client told "cap reached" is asked to wait: until it deleted something. */
const CAP_RETRY_AFTER_SECONDS = 60;

export function capReached(what: string, max: number, variable: string): ProblemError {
  return new ProblemError(
    429,
    problemTypes.rateLimited,
    'Too many requests',
    `a tenant may have at most ${max} ${what}; delete one first (the operator sets the cap with ${variable})`,
    { limit: max },
    { 'Retry-After': String(CAP_RETRY_AFTER_SECONDS) },
  );
}

/**
 * Creates one more of something a tenant may have at most `max` of. The tenant's row is locked
 * for the count and the insert, so concurrent creates for one tenant queue up and the cap is
 * never overshot, however many gateways there are.
 */
export async function createWithinCap<T>(
  prisma: PrismaClient,
  tenantId: string,
  cap: { max: number; what: string; variable: string },
  count: (tx: Prisma.TransactionClient) => Promise<number>,
  create: (tx: Prisma.TransactionClient) => Promise<T>,
): Promise<T> {
  return prisma.$transaction(async (tx) => {
    await tx.$queryRaw`SELECT 1 FROM tenants WHERE id = ${tenantId} FOR UPDATE`;
    if ((await count(tx)) >= cap.max) throw capReached(cap.what, cap.max, cap.variable);
    return create(tx);
  });
}
