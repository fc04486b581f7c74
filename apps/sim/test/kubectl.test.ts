// The real kubectl binary against the simulator: discovery, tables, apply (client- and
// server-side), logs, cordon, wait and delete. Missing kubectl is a failure, not a skip.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Node, startSimulator, type RunningSimulator } from '../src/index.js';
import { eventually } from './helpers.js';

let sim: RunningSimulator;
let dir: string;

function kubectl(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(
      'kubectl',
      ['--kubeconfig', sim.kubeconfigPath, ...args],
      { timeout: 30_000 },
      (err, stdout, stderr) => {
        if (err && (err as NodeJS.ErrnoException).code === 'ENOENT') {
          reject(
            new Error(
              'kubectl is not installed or not on PATH: these tests need the real kubectl binary (v1.32)',
            ),
          );
          return;
        }
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

async function ok(...args: string[]): Promise<string> {
  const r = await kubectl(...args);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'roam-sim-kubectl-'));
  sim = await startSimulator({ port: 0, speed: 200, kubeconfigPath: join(dir, 'kubeconfig') });
  const probe = await kubectl('version', '--client');
  if (probe.code !== 0) throw new Error(`kubectl does not run: ${probe.stderr}`);
});

afterAll(async () => {
  await sim.close();
  await rm(dir, { recursive: true, force: true });
});

const jobYaml = (label: string) => `apiVersion: batch/v1
kind: Job
metadata:
  name: hello
  labels:
    app: "${label}"
spec:
  completions: 2
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: main
        image: busybox
        command: ["sh", "-c", "echo hello from kubectl; sleep 3"]
`;

describe('kubectl', () => {
  it('gets nodes with table columns', async () => {
    const out = await ok('get', 'nodes');
    expect(out.split('\n')[0]).toMatch(/^NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION/);
    expect(out).toMatch(/gpu-pool-0\s+Ready/);
    const wide = await ok(
      'get',
      'nodes',
      '-o',
      'wide',
      '-l',
      'cloud.google.com/gke-nodepool=tpu-pool',
    );
    expect(wide.trim().split('\n')).toHaveLength(5);
  });

  it('applies a job, waits for completion and reads its logs', async () => {
    const file = join(dir, 'job.yaml');
    await writeFile(file, jobYaml('one'));
    expect(await ok('apply', '-f', file)).toContain('job.batch/hello created');
    expect(await ok('wait', '--for=condition=complete', 'job/hello', '--timeout=30s')).toContain(
      'condition met',
    );
    const table = await ok('get', 'jobs');
    expect(table).toMatch(/hello\s+Complete\s+2\/2/);
    expect(await ok('logs', 'job/hello')).toBe('hello from kubectl\n');
    await writeFile(file, jobYaml('two'));
    expect(await ok('apply', '-f', file)).toContain('job.batch/hello configured');
    expect(await ok('get', 'job', 'hello', '-o', 'jsonpath={.metadata.labels.app}')).toBe('two');
    await writeFile(file, jobYaml('three'));
    expect(await ok('apply', '--server-side', '-f', file)).toContain('serverside-applied');
    expect(await ok('get', 'job', 'hello', '-o', 'jsonpath={.metadata.labels.app}')).toBe('three');
  });

  it('cordons and uncordons a node', async () => {
    expect(await ok('cordon', 'cpu-pool-1')).toContain('cordoned');
    expect(await ok('get', 'node', 'cpu-pool-1')).toContain('SchedulingDisabled');
    expect(sim.store.get<Node>('nodes', undefined, 'cpu-pool-1')?.spec?.unschedulable).toBe(true);
    await ok('uncordon', 'cpu-pool-1');
    expect(
      sim.store.get<Node>('nodes', undefined, 'cpu-pool-1')?.spec?.unschedulable,
    ).toBeUndefined();
  });

  it('deletes a job and its pods', async () => {
    expect(await ok('delete', 'job', 'hello')).toContain('deleted');
    await eventually('pods collected', () => [...sim.store.list('pods', 'default')].length === 0);
    const missing = await kubectl('get', 'job', 'hello');
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('NotFound');
  });

  it('creates namespaces, configmaps and secrets with kubectl create (protobuf bodies)', async () => {
    await ok('create', 'namespace', 'kc-ns');
    await ok('create', 'configmap', 'cfg', '-n', 'kc-ns', '--from-literal=a=b');
    await ok('create', 'secret', 'generic', 'pw', '-n', 'kc-ns', '--from-literal=token=s3cret');
    expect(await ok('get', 'configmap', 'cfg', '-n', 'kc-ns', '-o', 'jsonpath={.data.a}')).toBe(
      'b',
    );
    const token = await ok('get', 'secret', 'pw', '-n', 'kc-ns', '-o', 'jsonpath={.data.token}');
    expect(Buffer.from(token, 'base64').toString()).toBe('s3cret');
  });

  it('reports server errors the way kubectl users expect', async () => {
    const file = join(dir, 'bad.yaml');
    await writeFile(file, 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: Bad_Name\n');
    const bad = await kubectl('apply', '-f', file);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('Invalid value: "Bad_Name"');
  });
});
