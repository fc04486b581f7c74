// Shared by the deployment tests: the apps and their env schemas (read from libs/config, never
// listed here, so a new or renamed variable is seen at once), the repository root, and the
// image's launcher run in dry-run mode to learn what a container command would execute.
import { spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { type AppName, gatewayEnv, workerEnv, workerPorts } from '@roam/config';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const launcher = join(repoRoot, 'deploy/docker/launch.mjs');

export const appNames = Object.keys(workerPorts) as AppName[];

export function envSchema(app: AppName) {
  return app === 'gateway' ? gatewayEnv : workerEnv(app);
}

export function schemaKeys(app: AppName): string[] {
  return Object.keys(envSchema(app).shape);
}

export interface Launch {
  module: string;
  args: string[];
}

/** What `node /app/launch.mjs …args` runs inside the image, resolved against this checkout. */
export function resolveLaunch(args: readonly string[]): Launch {
  const result = spawnSync(process.execPath, [launcher, ...args], {
    env: { ...process.env, ROAM_ROOT: repoRoot, ROAM_LAUNCH_DRY_RUN: '1' },
    encoding: 'utf8',
  });
  if (result.status !== 0) {
    throw new Error(`launch.mjs ${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  }
  return JSON.parse(result.stdout) as Launch;
}

/** The TypeScript source a built `dist/…js` path comes from (the build may not have run). */
export function sourceOf(distPath: string): string {
  return distPath.replace('/dist/', '/src/').replace(/\.js$/, '.ts');
}
