import { describe, expect, it } from '@jest/globals';
import { eventually } from '@roam/testing';
import pino from 'pino';

import type { KubeState } from './kube-state.js';
import type { ReconcileRepository } from './reconcile.repository.js';
import type { ReconcilerConfig } from './reconciler.config.js';
import { ReconcilerService } from './reconciler.service.js';

/** A reconciler over fakes: the active jobs are `active`, and every job it reads is recorded. */
function reconciler(active: string[], intervalMs: number, failLoads = false) {
  const loads: string[] = [];
  const state = {
    allJobs: function* () {},
    isSynced: () => true,
    jobSetsSynced: () => true,
    job: () => undefined,
    podsOf: () => [],
    node: () => undefined,
  } as unknown as KubeState;
  const repository = {
    activeIds: (after: string | undefined) =>
      Promise.resolve(after === undefined ? [...active] : []),
    load: (ids: readonly string[]) => {
      loads.push(...ids);
      return failLoads ? Promise.reject(new Error('Postgres is away')) : Promise.resolve([]);
    },
    markCleaned: () => Promise.resolve(),
  } as unknown as ReconcileRepository;
  const config = { RECONCILE_INTERVAL_MS: intervalMs, RECONCILE_BATCH: 500 } as ReconcilerConfig;
  const service = new ReconcilerService(state, repository, config, pino({ level: 'silent' }));
  const reads = (id: string) => loads.filter((read) => read === id).length;
  /** Resolves once the drain has read `id`: everything enqueued before it has been read too. */
  const readUpTo = (id: string) => {
    service.enqueue(id);
    return eventually(`${id} to be read`, () => Promise.resolve(loads.includes(id) || undefined));
  };
  return { service, reads, readUpTo };
}

describe('ReconcilerService resync', () => {
  it('skips a job a watch event made it look at within the last interval', async () => {
    const { service, reads, readUpTo } = reconciler(['evented', 'quiet'], 60_000);
    service.observed('evented');
    await readUpTo('marker-1');
    expect(reads('evented')).toBe(1);
    await service.resync();
    await readUpTo('marker-2');
    // Its event just brought it up to date; the job without events is read as always.
    expect(reads('evented')).toBe(1);
    expect(reads('quiet')).toBe(1);
    await service.onModuleDestroy();
  });

  it('reads a job without events on every resync', async () => {
    const { service, reads, readUpTo } = reconciler(['quiet'], 60_000);
    await service.resync();
    await readUpTo('marker-1');
    await service.resync();
    await readUpTo('marker-2');
    expect(reads('quiet')).toBe(2);
    await service.onModuleDestroy();
  });

  it('does not count a look that failed: the resync reads the job again', async () => {
    const { service, reads, readUpTo } = reconciler(['evented'], 60_000, true);
    service.observed('evented');
    await readUpTo('marker-1');
    await service.resync();
    await readUpTo('marker-2');
    expect(reads('evented')).toBeGreaterThanOrEqual(2);
    await service.onModuleDestroy();
  });

  it('reads an evented job again once an interval has passed', async () => {
    const { service, reads, readUpTo } = reconciler(['evented'], 100);
    service.observed('evented');
    await readUpTo('marker-1');
    await eventually('a resync to read the job again', async () => {
      await service.resync();
      return reads('evented') >= 2 || undefined;
    });
    await service.onModuleDestroy();
  });
});
