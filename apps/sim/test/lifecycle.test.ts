// Snapshot persistence across restarts, world files and node pool control from code.
import { afterAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Node, optionsFromEnv, startSimulator } from '../src/index.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'roam-sim-life-'));
  dirs.push(d);
  return d;
}

describe('simulator lifecycle', () => {
  it('keeps state across a restart with a snapshot file', async () => {
    const dir = await tempDir();
    const snapshotFile = join(dir, 'state.json');
    const first = await startSimulator({ port: 0, speed: 100, snapshotFile });
    await fetch(`${first.url}/api/v1/namespaces/default/configmaps`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ metadata: { name: 'kept' }, data: { a: 'b' } }),
    });
    const rvBefore = first.store.resourceVersion;
    await first.close();
    const second = await startSimulator({ port: 0, speed: 100, snapshotFile });
    try {
      const res = await fetch(`${second.url}/api/v1/namespaces/default/configmaps/kept`);
      expect(res.status).toBe(200);
      expect(((await res.json()) as { data: unknown }).data).toEqual({ a: 'b' });
      expect(second.store.resourceVersion).toBeGreaterThanOrEqual(rvBefore);
      expect(second.store.count('nodes')).toBe(9);
    } finally {
      await second.close();
    }
  });

  it('loads pools from a world file and exposes them through the cluster handle', async () => {
    const dir = await tempDir();
    const worldFile = join(dir, 'world.json');
    await writeFile(
      worldFile,
      JSON.stringify({
        pools: [{ name: 'small', nodes: 2, capacity: { cpu: '2', memory: '4Gi', pods: '10' } }],
      }),
    );
    const sim = await startSimulator({ port: 0, worldFile, kubeconfigPath: join(dir, 'kc') });
    try {
      expect(sim.cluster.listPools().map((p) => [p.spec.name, p.nodes])).toEqual([
        ['small', ['small-0', 'small-1']],
      ]);
      const added = sim.cluster.addNode('small');
      expect(added).toBe('small-2');
      sim.cluster.setReady('small-0', false);
      const node = sim.store.get<Node>('nodes', undefined, 'small-0');
      expect(node?.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('Unknown');
      const kc = await readFile(join(dir, 'kc'), 'utf8');
      expect(kc).toContain(`server: ${sim.url}`);
      expect(kc).toContain('insecure-skip-tls-verify: true');
    } finally {
      await sim.close();
    }
  });

  it('accepts the world as inline JSON in SIM_WORLD', async () => {
    const kubeconfig = join(await tempDir(), 'kc');
    const env = {
      SIM_PORT: '0',
      SIM_KUBECONFIG: kubeconfig,
      SIM_WORLD: '{"pools":[{"name":"solo","nodes":1}]}',
    };
    const sim = await startSimulator({ ...optionsFromEnv(env), log: () => undefined });
    try {
      expect([...sim.store.list('nodes')].map((n) => n.metadata.name)).toEqual(['solo-0']);
    } finally {
      await sim.close();
    }
  });

  it('validates SIM_* variables and lists every bad key', () => {
    expect(optionsFromEnv({ SIM_PORT: '0', SIM_SPEED: '50' })).toMatchObject({
      port: 0,
      speed: 50,
      host: '127.0.0.1',
      kubeconfigPath: '.roam/kubeconfig',
    });
    expect(() => optionsFromEnv({ SIM_PORT: 'abc', SIM_SPEED: '-1' })).toThrow(
      /SIM_PORT[\s\S]*SIM_SPEED/,
    );
  });
});
