import { Injectable } from '@nestjs/common';
import { clusterCapacity, fairSharePosition } from '@roam/domain';

import { NodeCapacityCache } from '../jobs/node-capacity.cache.js';
import { InsightsRepository, type Window } from './insights.repository.js';
import type { SeriesQuery, UsageSeriesView } from './insights.schemas.js';

/** The window a series query asks for, ending now. */
export function windowOf(query: SeriesQuery, now = new Date()): Window {
  return {
    until: now,
    stepMs: Math.floor((query.hours * 3_600_000) / query.buckets),
    buckets: query.buckets,
  };
}

/** Bucket ends, oldest first. */
export const bucketEnds = (window: Window): Date[] =>
  Array.from(
    { length: window.buckets },
    (_, i) => new Date(window.until.getTime() - (window.buckets - i - 1) * window.stepMs),
  );

/** A tenant's quota use over time, and where it stands in fair share now. */
@Injectable()
export class UsageSeriesService {
  constructor(
    private readonly insights: InsightsRepository,
    private readonly nodes: NodeCapacityCache,
  ) {}

  async series(tenantId: string, query: SeriesQuery): Promise<UsageSeriesView> {
    const window = windowOf(query);
    const [rows, spendAfter, limits, holders, nodes] = await Promise.all([
      this.insights.usage(tenantId, window),
      this.insights.spendAfter(tenantId, window),
      this.insights.limits(tenantId),
      this.insights.holders(),
      this.nodes.current(),
    ]);
    const ends = bucketEnds(window);
    const spent = Number(limits.offloadSpendMicros);
    const later = new Map(spendAfter.map((row) => [row.i, row.later]));
    const fairShare = fairSharePosition(
      tenantId,
      holders.map((row) => ({
        tenantId: row.tenant_id,
        weight: row.weight,
        waiting: row.waiting,
        used: { cpuMillis: row.cpu_millis, memoryBytes: row.memory_bytes, gpu: row.gpu },
      })),
      clusterCapacity(nodes),
    );
    return {
      from: new Date(window.until.getTime() - window.buckets * window.stepMs).toISOString(),
      until: window.until.toISOString(),
      bucket_seconds: Math.round(window.stepMs / 1000),
      limits: {
        cpu_millis: limits.maxCpuMillis,
        memory_bytes: Number(limits.maxMemoryBytes),
        gpu: limits.maxGpu,
        concurrent_jobs: limits.maxConcurrentJobs,
        offload_budget_micros:
          limits.offloadBudgetMicros === null ? null : Number(limits.offloadBudgetMicros),
      },
      points: rows.map((row) => ({
        at: ends[row.i - 1]!.toISOString(),
        submitted: row.submitted,
        finished: row.finished,
        pending: row.pending,
        running: row.running,
        cpu_millis: row.cpu_millis,
        memory_bytes: row.memory_bytes,
        gpu: row.gpu,
        offload_spend_micros: Math.max(0, spent - (later.get(row.i) ?? 0)),
      })),
      fair_share: fairShare,
    };
  }
}
