import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { kubectlAsync, parseObjects, render } from './kustomize-render.js';

/**
 * The rendered dev overlay, applied with kubectl to the Kubernetes simulator (apps/sim): the
 * manifests must be accepted by an API server, not only parse. Every kind the overlay uses
 * (apps/v1 Deployments, RBAC, policy/v1, networking/v1, ServiceAccounts, Jobs…) must be served.
 */

interface Simulator {
  url: string;
  kubeconfigPath: string;
  close(): Promise<void> | void;
}
interface SimModule {
  startSimulator(options: {
    port: number;
    kubeconfigPath: string;
    log: (line: string) => void;
  }): Promise<Simulator>;
}

// Imported by name at run time (jest maps it to apps/sim/src): the root package does not depend
// on @roam/sim, so a static import would not type-check.
const simSpecifier = '@roam/sim';

describe('deploy/overlays/dev on the Kubernetes simulator', () => {
  let sim: Simulator | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'roam-sim-deploy-'));
  const { text, objects } = render('deploy/overlays/dev');

  beforeAll(async () => {
    const module = (await import(simSpecifier)) as SimModule;
    sim = await module.startSimulator({
      port: 0,
      kubeconfigPath: join(dir, 'kubeconfig'),
      log: () => undefined,
    });
  });

  afterAll(async () => {
    await sim?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function onSim(args: string[], input?: string): Promise<string> {
    if (!sim) throw new Error('the simulator did not start');
    return kubectlAsync(
      ['--kubeconfig', sim.kubeconfigPath, '--request-timeout=20s', ...args],
      input,
      45_000,
    );
  }

  it('kubectl apply accepts every object', async () => {
    const output = await onSim(['apply', '--validate=false', '-f', '-'], text);
    const applied = output
      .split('\n')
      .filter((line) => / (created|configured|unchanged)$/.test(line));
    expect(applied).toHaveLength(objects.length);
  });

  it('the Deployments and the migration Job are there afterwards', async () => {
    const got = parseObjects(await onSim(['get', 'deployments,jobs', '-n', 'roam', '-o', 'yaml']));
    const items = got.flatMap(
      (list) => (list['items'] as { kind?: string; metadata: { name: string } }[]) ?? [],
    );
    const names = items.map((item) => item.metadata.name);
    const expected = objects
      .filter((o) => o.kind === 'Deployment' || o.kind === 'Job')
      .map((o) => o.metadata.name);
    expect(names.sort()).toEqual(expected.sort());
  });
});
