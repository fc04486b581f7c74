// Renders a kustomization with the kustomize built into kubectl. A missing kubectl is a test
// failure with a clear message, never a skip.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

import { parseAllDocuments } from 'yaml';

import { repoRoot } from './deploy-helpers.js';

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  [field: string]: unknown;
}

export function kubectl(args: readonly string[], input?: string, timeoutMs = 60_000): string {
  const result = spawnSync('kubectl', args, {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: timeoutMs,
    killSignal: 'SIGKILL',
    maxBuffer: 64 * 1024 * 1024,
    ...(input === undefined ? {} : { input }),
  });
  if (result.error) {
    const code = (result.error as NodeJS.ErrnoException).code;
    if (code === 'ETIMEDOUT') {
      throw new Error(`kubectl ${args.join(' ')}: no answer in ${timeoutMs} ms\n${result.stderr}`);
    }
    throw new Error(
      code === 'ENOENT'
        ? 'kubectl is not installed (or not on PATH): the deployment tests render deploy/ with ' +
            '`kubectl kustomize`. Install kubectl >= 1.27.'
        : `kubectl ${args.join(' ')}: ${result.error.message}`,
    );
  }
  if (result.status !== 0) {
    throw new Error(`kubectl ${args.join(' ')} exited ${result.status}:\n${result.stderr}`);
  }
  return result.stdout;
}

/**
 * kubectl without blocking the event loop: needed when the API server (the simulator) runs in
 * this process, where spawnSync would starve it.
 */
export async function kubectlAsync(
  args: readonly string[],
  input?: string,
  timeoutMs = 60_000,
): Promise<string> {
  const child = spawn('kubectl', args, { cwd: repoRoot, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.stdin.end(input ?? '');
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      child.on('error', (error: NodeJS.ErrnoException) =>
        reject(
          error.code === 'ENOENT'
            ? new Error('kubectl is not installed (or not on PATH). Install kubectl >= 1.27.')
            : error,
        ),
      );
      child.on('close', resolve);
    });
    if (code !== 0) {
      throw new Error(
        `kubectl ${args.join(' ')} exited ${code ?? 'on a signal (timeout?)'}:\n${stderr}`,
      );
    }
    return stdout;
  } finally {
    clearTimeout(timer);
  }
}

export function parseObjects(text: string): K8sObject[] {
  return parseAllDocuments(text)
    .map((doc) => {
      if (doc.errors.length > 0) throw doc.errors[0]!;
      return doc.toJS() as K8sObject | null;
    })
    .filter((object): object is K8sObject => object !== null);
}

/** `kubectl kustomize <dir>` (dir relative to the repository), parsed. */
export function render(dir: string): { text: string; objects: K8sObject[] } {
  const text = kubectl(['kustomize', dir]);
  return { text, objects: parseObjects(text) };
}

/** An overlay plus components, through a throwaway kustomization outside the repository. */
export function renderWithComponents(overlay: string, components: readonly string[]): K8sObject[] {
  const dir = mkdtempSync(join(tmpdir(), 'roam-kustomize-'));
  try {
    const rel = (path: string) => relative(dir, join(repoRoot, path));
    writeFileSync(
      join(dir, 'kustomization.yaml'),
      [
        'apiVersion: kustomize.config.k8s.io/v1beta1',
        'kind: Kustomization',
        `resources: [${rel(overlay)}]`,
        `components: [${components.map(rel).join(', ')}]`,
        '',
      ].join('\n'),
    );
    return parseObjects(kubectl(['kustomize', '--load-restrictor', 'LoadRestrictionsNone', dir]));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
