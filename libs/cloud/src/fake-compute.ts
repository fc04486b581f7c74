import type { ComputeInstance, ComputePort, DeleteResult } from './compute.js';

/** In-memory `ComputePort` for tests: pools of instances, and a record of every deletion. */
export class FakeCompute implements ComputePort {
  readonly deleted: ComputeInstance[] = [];
  private readonly pools = new Map<string, ComputeInstance[]>();

  setPool(pool: string, instances: ComputeInstance[]): void {
    this.pools.set(pool, instances);
  }

  listInstances(pool: string): Promise<ComputeInstance[]> {
    return Promise.resolve([...(this.pools.get(pool) ?? [])]);
  }

  deleteInstance(pool: string, instance: ComputeInstance): Promise<DeleteResult> {
    this.deleted.push(instance);
    this.pools.set(
      pool,
      (this.pools.get(pool) ?? []).filter((i) => i.id !== instance.id),
    );
    return Promise.resolve({ operation: `fake-${this.deleted.length}`, status: 'DONE' });
  }
}
