/**
 * Which RunPod GPU type an offloaded job gets (the RunPod controller: "Selects
 * cost-effective GPUs from RunPod based on memory requirements"). Pure: the catalogue and the
 * policy come in, a choice and its reasons go out, so "why this GPU" and "why no GPU" can be
 * shown to the user.
 */

export interface GpuOfferView {
  id: string;
  memoryInGb: number;
  /** USD per GPU-hour in the cloud being asked for; null = not offered there. */
  pricePerGpuHour: number | null;
  /** Free GPUs per data centre. */
  dataCenters: ReadonlyArray<{ id: string; available: number }>;
}

/** Operator defaults, narrowed per tenant (roam jobs): lists are exact RunPod ids. */
export interface GpuPolicy {
  /** USD per hour for the whole pod (price × GPU count), the RunPod controller `--max-gpu-price`. */
  maxPricePerHour: number;
  allowGpuTypes?: readonly string[];
  denyGpuTypes?: readonly string[];
  allowDataCenters?: readonly string[];
  denyDataCenters?: readonly string[];
}

export interface GpuRequest {
  gpuCount: number;
  /** Per GPU, `runpod.io/required-gpu-memory` in GB; 0 = any. */
  minMemoryGb: number;
}

export type GpuChoice =
  | {
      ok: true;
      gpuTypeId: string;
      /** Data centres with stock, in the order RunPod should try them. */
      dataCenterIds: string[];
      pricePerHour: number;
      /** Other fitting types, cheapest first: RunPod may take the next when stock moved. */
      fallbacks: string[];
      why: string;
    }
  | { ok: false; why: string };

const allowed = (id: string, allow?: readonly string[], deny?: readonly string[]) =>
  (!allow || allow.length === 0 || allow.includes(id)) && !(deny ?? []).includes(id);

/** Enough memory, allowed, in stock, under the cap; cheapest first (ties: more memory, then id). */
export function chooseGpu(
  offers: readonly GpuOfferView[],
  request: GpuRequest,
  policy: GpuPolicy,
): GpuChoice {
  const count = Math.max(1, request.gpuCount);
  const rejected = { memory: 0, policy: 0, price: 0, stock: 0 };
  const fitting: Array<{ offer: GpuOfferView; price: number; dcs: string[] }> = [];
  for (const offer of offers) {
    if (offer.memoryInGb < request.minMemoryGb) {
      rejected.memory += 1;
      continue;
    }
    if (
      !allowed(offer.id, policy.allowGpuTypes, policy.denyGpuTypes) ||
      offer.pricePerGpuHour === null
    ) {
      rejected.policy += 1;
      continue;
    }
    const price = Math.round(offer.pricePerGpuHour * count * 1e6) / 1e6;
    if (price > policy.maxPricePerHour) {
      rejected.price += 1;
      continue;
    }
    const dcs = offer.dataCenters
      .filter(
        (dc) =>
          dc.available >= count && allowed(dc.id, policy.allowDataCenters, policy.denyDataCenters),
      )
      .sort((a, b) => b.available - a.available || a.id.localeCompare(b.id))
      .map((dc) => dc.id);
    if (dcs.length === 0) {
      rejected.stock += 1;
      continue;
    }
    fitting.push({ offer, price, dcs });
  }
  fitting.sort(
    (a, b) =>
      a.price - b.price ||
      b.offer.memoryInGb - a.offer.memoryInGb ||
      a.offer.id.localeCompare(b.offer.id),
  );
  const best = fitting[0];
  const wanted = `${count} GPU${count > 1 ? 's' : ''}${request.minMemoryGb > 0 ? ` with ≥${request.minMemoryGb} GB` : ''} under $${policy.maxPricePerHour}/h`;
  if (!best) {
    const parts = [
      rejected.memory && `${rejected.memory} too small`,
      rejected.policy && `${rejected.policy} not allowed`,
      rejected.price && `${rejected.price} over the price cap`,
      rejected.stock && `${rejected.stock} out of stock in allowed data centres`,
    ].filter(Boolean);
    return {
      ok: false,
      why: `no RunPod GPU type fits ${wanted} (of ${offers.length}: ${parts.join(', ') || 'none offered'})`,
    };
  }
  return {
    ok: true,
    gpuTypeId: best.offer.id,
    dataCenterIds: best.dcs,
    pricePerHour: best.price,
    fallbacks: fitting.slice(1).map((f) => f.offer.id),
    why: `${best.offer.id} (${best.offer.memoryInGb} GB) at $${best.price}/h is the cheapest of ${fitting.length} fitting ${wanted}`,
  };
}
