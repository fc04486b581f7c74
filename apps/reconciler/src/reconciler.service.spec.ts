import { describe, expect, it } from '@jest/globals';
import { eventually } from '@roam/testing';
import pino from 'pino';

import type { KubeState } from './kube-state.js';
import type { ReconcileRepository } from './reconcile.repository.js';
import type { ReconcilerConfig } from './reconciler.config.js';
import { ReconcilerService } from './reconciler.service.js';

/** A reconciler over fakes: the active jobs are `active`, and every job it reads is recorded. */
function reconciler(active: string[], intervalMs: number) {
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
      return Promise.resolve([]);
    },
    markCleaned: () => Promise.resolve(),
  } as unknown as ReconcileRepository;
  const config = { RECONCILE_INTERVAL_MS: intervalMs, RECONCILE_BATCH: 500 } as ReconcilerConfig;
  const service = new ReconcilerService(state, repository, config, pino({ level: 'silent' }));
  /** Resolves once the drain has read `id`: everything enqueued before it has been read too. */
  const readUpTo = (id: string) => {
    service.enqueue(id);
    return eventually(`${id} to be read`, () => Promise.resolve(loads.includes(id) || undefined));
  };
  return { service, loads, readUpTo };
}

describe('ReconcilerService resync', () => {
  it('skips the jobs it looked at within the last interval', async () => {
    const { service, loads, readUpTo } = reconciler(['a', 'b'], 60_000);
    await service.resync();
    await readUpTo('marker-1');
    expect(loads.filter((id) => id === 'a' || id === 'b').sort()).toEqual(['a', 'b']);
    // Looked at a moment ago: the next resync leaves them to their events.
    await service.resync();
    await readUpTo('marker-2');
    expect(loads.filter((id) => id === 'a' || id === 'b')).toHaveLength(2);
    await service.onModuleDestroy();
  });

  it('looks again at an active job once an interval has passed without a look', async () => {
    const { service, loads } = reconciler(['a'], 100);
    await service.resync();
    await eventually('a second look at the job', async () => {
      await service.resync();
      return loads.filter((id) => id === 'a').length >= 2 || undefined;
    });
    await service.onModuleDestroy();
  });
});
