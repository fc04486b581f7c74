import { Injectable } from '@nestjs/common';

import { InsightsRepository } from './insights.repository.js';
import type { OffloadOverviewView } from './insights.schemas.js';

const PODS = 100;
const TENANTS = 100;
const PRICE_DAYS = 30;

/** RunPod offloads for operators: pods, the prices they run at, spend against budgets. */
@Injectable()
export class OffloadOverviewService {
  constructor(private readonly insights: InsightsRepository) {}

  async overview(now = new Date()): Promise<OffloadOverviewView> {
    const [pods, prices, spend] = await Promise.all([
      this.insights.pods(PODS),
      this.insights.prices(new Date(now.getTime() - PRICE_DAYS * 86_400_000)),
      this.insights.spend(TENANTS),
    ]);
    return {
      pods: pods.map((pod) => ({
        id: pod.id,
        tenant: pod.tenant_id,
        job_id: pod.job_id,
        runpod_pod_id: pod.runpod_pod_id,
        gpu_type: pod.gpu_type,
        data_center: pod.data_center,
        state: pod.state,
        price_per_hour_micros: Number(pod.price_per_hour_micros),
        cost_micros: Number(pod.cost_micros),
        created_at: pod.created_at.toISOString(),
        ended_at: pod.ended_at?.toISOString() ?? null,
      })),
      prices: prices.map((price) => ({
        gpu_type: price.gpu_type,
        pods: price.pods,
        last_price_per_hour_micros: Number(price.last),
        min_price_per_hour_micros: Number(price.min),
        max_price_per_hour_micros: Number(price.max),
      })),
      spend: spend.map((row) => ({
        tenant: row.tenant_id,
        spend_micros: Number(row.spend),
        budget_micros: row.budget === null ? null : Number(row.budget),
        running_pods: row.running_pods,
      })),
    };
  }
}
