import { Injectable } from '@nestjs/common';

import { InsightsRepository } from './insights.repository.js';
import type { QueueSeriesView, SeriesQuery } from './insights.schemas.js';
import { bucketEnds, windowOf } from './usage-series.service.js';

/** Tenants drawn one by one; the rest are summed, so a chart stays readable at any count. */
const NAMED_TENANTS = 10;
const OLDEST_WAITING = 20;

/** The admission queue over time, across tenants: for operators only. */
@Injectable()
export class QueueSeriesService {
  constructor(private readonly insights: InsightsRepository) {}

  async series(query: SeriesQuery, now = new Date()): Promise<QueueSeriesView> {
    const window = windowOf(query, now);
    const [rows, oldest] = await Promise.all([
      this.insights.pending(window),
      this.insights.oldestWaiting(OLDEST_WAITING),
    ]);
    const admitted = new Array<number>(window.buckets).fill(0);
    const byTenant = new Map<string, number[]>();
    for (const row of rows) {
      admitted[row.i - 1]! += row.admitted;
      if (row.pending === 0) continue;
      let values = byTenant.get(row.tenant_id);
      if (!values)
        byTenant.set(row.tenant_id, (values = new Array<number>(window.buckets).fill(0)));
      values[row.i - 1] = row.pending;
    }
    const ranked = [...byTenant.entries()].sort(
      ([a, x], [b, y]) => Math.max(...y) - Math.max(...x) || a.localeCompare(b),
    );
    const pending = ranked.slice(0, NAMED_TENANTS).map(([tenant, values]) => ({ tenant, values }));
    const rest = ranked.slice(NAMED_TENANTS);
    if (rest.length > 0)
      pending.push({
        tenant: '(others)',
        values: admitted.map((_, i) => rest.reduce((sum, [, values]) => sum + values[i]!, 0)),
      });
    return {
      from: new Date(window.until.getTime() - window.buckets * window.stepMs).toISOString(),
      until: window.until.toISOString(),
      bucket_seconds: Math.round(window.stepMs / 1000),
      times: bucketEnds(window).map((end) => end.toISOString()),
      pending,
      admitted,
      oldest_waiting: oldest.map((row) => ({
        tenant: row.tenant_id,
        waiting: row.waiting,
        oldest_created_at: row.oldest.toISOString(),
        oldest_wait_seconds: Math.max(0, Math.floor((now.getTime() - row.oldest.getTime()) / 1000)),
      })),
    };
  }
}
