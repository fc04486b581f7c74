import { compareStrings } from './nodes.js';
import { dominantShare, type Resources } from './resources.js';

/** A tenant as fair share sees it: what it holds, its weight, whether it has jobs waiting. */
export interface ShareHolder {
  tenantId: string;
  used: Resources;
  weight: number;
  waiting: number;
}

export interface FairSharePosition {
  /** Weighted dominant share of the cluster the tenant holds (0 = none, 1 = all of it). */
  share: number;
  /**
   * 1-based place among the tenants with jobs waiting, in the order fair share hands out the
   * next slot (lowest weighted share first); null when the tenant has nothing waiting.
   */
  position: number | null;
  /** Tenants with jobs waiting, the caller included when it has some. */
  competing: number;
}

const weighted = (holder: ShareHolder, total: Resources): number =>
  dominantShare(holder.used, total) / Math.max(holder.weight, 1);

/**
 * Where `tenantId` stands in the fair-share order admission uses across tenants (weighted
 * dominant resource share, ties by tenant id; see `decide`). Starving jobs and reservations,
 * which go first, are left out: this is the standing, not a promise about the next cycle.
 */
export function fairSharePosition(
  tenantId: string,
  holders: readonly ShareHolder[],
  total: Resources,
): FairSharePosition {
  const me = holders.find((holder) => holder.tenantId === tenantId);
  const share = me ? weighted(me, total) : 0;
  const competing = holders
    .filter((holder) => holder.waiting > 0)
    .map((holder) => ({ id: holder.tenantId, share: weighted(holder, total) }))
    .sort((a, b) => a.share - b.share || compareStrings(a.id, b.id));
  const index = competing.findIndex((holder) => holder.id === tenantId);
  return { share, position: index === -1 ? null : index + 1, competing: competing.length };
}
