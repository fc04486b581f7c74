// Simulator settings from the environment, validated with zod at boot.
import { z } from 'zod';

const EnvSchema = z.object({
  SIM_HOST: z.string().min(1).default('127.0.0.1'),
  SIM_PORT: z.coerce.number().int().min(0).max(65535).default(6443),
  SIM_SPEED: z.coerce.number().positive().default(1),
  SIM_KUBECONFIG: z.string().min(1).default('.roam/kubeconfig'),
  SIM_WORLD: z.string().min(1).optional(),
  SIM_SNAPSHOT: z.string().min(1).optional(),
  SIM_SNAPSHOT_INTERVAL_SECONDS: z.coerce.number().positive().default(30),
  /** Default: SIM_PORT + 2 (6445), or random when SIM_PORT is 0. */
  SIM_COMPUTE_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  /** Default: SIM_PORT + 1 (6444), or random when SIM_PORT is 0. */
  SIM_RUNPOD_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  /** Where PVC contents live on disk (`<dir>/<namespace>/<claim>/`); unset = in memory. */
  SIM_VOLUMES_DIR: z.string().min(1).optional(),
});

export interface SimOptions {
  host: string;
  port: number;
  /** Simulated seconds per real second: 100 makes `sleep 10` take 0.1 s. */
  speed: number;
  /** Where to write the kubeconfig; empty string = do not write a file. */
  kubeconfigPath: string;
  /** JSON world file (pools); the default world when absent. */
  worldFile?: string;
  /** World given in code; wins over worldFile. */
  world?: unknown;
  /** State file: loaded at start, saved periodically and on close. */
  snapshotFile?: string;
  snapshotIntervalSeconds: number;
  /** Port of the simulated RunPod API (0 = any free port); its price list, when not the default. */
  runpodPort?: number;
  runpodCatalog?: unknown;
  /** Port of the simulated Compute Engine API (0 = any free port). */
  computePort?: number;
  /**
   * Directory PVC contents are kept in (`<dir>/<namespace>/<claim>/`), as a local-path
   * provisioner does; unset = in memory.
   */
  volumesDir?: string;
  /** Log lines to stdout (main) or stay quiet (tests). */
  log: (line: string) => void;
}

export function optionsFromEnv(env: NodeJS.ProcessEnv = process.env): SimOptions {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues
      .map((i) => `  ${i.path.join('.')}: ${i.message}`)
      .join('\n');
    throw new Error(`invalid simulator configuration:\n${problems}`);
  }
  const e = parsed.data;
  return {
    host: e.SIM_HOST,
    port: e.SIM_PORT,
    speed: e.SIM_SPEED,
    kubeconfigPath: e.SIM_KUBECONFIG,
    worldFile: e.SIM_WORLD,
    snapshotFile: e.SIM_SNAPSHOT,
    snapshotIntervalSeconds: e.SIM_SNAPSHOT_INTERVAL_SECONDS,
    computePort: e.SIM_COMPUTE_PORT ?? (e.SIM_PORT === 0 ? 0 : e.SIM_PORT + 2),
    runpodPort: e.SIM_RUNPOD_PORT ?? (e.SIM_PORT === 0 ? 0 : e.SIM_PORT + 1),
    ...(e.SIM_VOLUMES_DIR ? { volumesDir: e.SIM_VOLUMES_DIR } : {}),
    log: (line) => void process.stdout.write(`${line}\n`),
  };
}

export const DEFAULT_OPTIONS: SimOptions = {
  host: '127.0.0.1',
  port: 0,
  speed: 1,
  kubeconfigPath: '',
  snapshotIntervalSeconds: 30,
  log: () => undefined,
};
