import { join } from 'node:path';

/**
 * Which Postgres, NATS and Kubernetes the stack uses. Pure: the launcher probes the default
 * local services (only those the environment did not already name) and hands the results here.
 * Order of preference for each: what the user's environment says, then the machine's default
 * service if it answers, then one the launcher starts itself.
 */
export type ProbeResult = { ok: true } | { ok: false; reason: string };

export type ServiceChoice =
  /** Named by the user's environment; used as is, never probed. */
  | { kind: 'env'; url: string; variable: string }
  /** The machine's default local service answered the probe. */
  | { kind: 'local'; url: string }
  /** The launcher starts its own, because the default did not answer (`reason`). */
  | { kind: 'embedded'; url: string; port: number; reason: string };

export type KubeChoice =
  | { kind: 'env'; kubeconfigPath: string; variable: string }
  | { kind: 'simulator'; kubeconfigPath: string; port: number };

export interface ServicePlan {
  postgres: ServiceChoice;
  nats: ServiceChoice;
  kube: KubeChoice;
}

export const LOCAL_POSTGRES = {
  /** Probed as the trust-auth superuser on its maintenance database. */
  probeUrl: 'postgresql://postgres@127.0.0.1:5432/postgres',
  /** What the apps get: `migrateDatabase` creates `roam` when it is missing. */
  url: 'postgresql://postgres@127.0.0.1:5432/roam',
} as const;

export const LOCAL_NATS = { host: '127.0.0.1', port: 4222, url: 'nats://127.0.0.1:4222' } as const;

/** Embedded Postgres runs on its own port and password so it is never mistaken for the local one. */
export const EMBEDDED_POSTGRES_USER = 'postgres';
export const EMBEDDED_POSTGRES_PASSWORD = 'postgres';

export interface PlanInput {
  env: {
    DATABASE_URL?: string | undefined;
    NATS_URL?: string | undefined;
    KUBECONFIG?: string | undefined;
    ROAM_KUBECONFIG?: string | undefined;
  };
  /** Results of probing the defaults; absent when the environment made probing unnecessary. */
  probes: { postgres?: ProbeResult; nats?: ProbeResult };
  embedded: { postgresPort: number; natsPort: number; simPort: number };
  /** Where the simulator writes its kubeconfig (under the state directory). */
  simKubeconfigPath: string;
}

const set = (value: string | undefined): value is string => value !== undefined && value !== '';

/** The probes worth running for this environment. */
export function probesNeeded(env: PlanInput['env']): { postgres: boolean; nats: boolean } {
  return { postgres: !set(env.DATABASE_URL), nats: !set(env.NATS_URL) };
}

export function planServices(input: PlanInput): ServicePlan {
  const { env, probes, embedded } = input;

  const postgres: ServiceChoice = set(env.DATABASE_URL)
    ? { kind: 'env', url: env.DATABASE_URL, variable: 'DATABASE_URL' }
    : probes.postgres?.ok
      ? { kind: 'local', url: LOCAL_POSTGRES.url }
      : {
          kind: 'embedded',
          port: embedded.postgresPort,
          url: `postgresql://${EMBEDDED_POSTGRES_USER}:${EMBEDDED_POSTGRES_PASSWORD}@127.0.0.1:${embedded.postgresPort}/roam`,
          reason: failure(probes.postgres, 'Postgres at 127.0.0.1:5432'),
        };

  const nats: ServiceChoice = set(env.NATS_URL)
    ? { kind: 'env', url: env.NATS_URL, variable: 'NATS_URL' }
    : probes.nats?.ok
      ? { kind: 'local', url: LOCAL_NATS.url }
      : {
          kind: 'embedded',
          port: embedded.natsPort,
          url: `nats://127.0.0.1:${embedded.natsPort}`,
          reason: failure(probes.nats, 'NATS at 127.0.0.1:4222'),
        };

  // ROAM_KUBECONFIG wins over KUBECONFIG so a developer can keep kubectl pointed elsewhere.
  const kube: KubeChoice = set(env.ROAM_KUBECONFIG)
    ? { kind: 'env', kubeconfigPath: env.ROAM_KUBECONFIG, variable: 'ROAM_KUBECONFIG' }
    : set(env.KUBECONFIG)
      ? { kind: 'env', kubeconfigPath: env.KUBECONFIG, variable: 'KUBECONFIG' }
      : { kind: 'simulator', kubeconfigPath: input.simKubeconfigPath, port: embedded.simPort };

  return { postgres, nats, kube };
}

function failure(probe: ProbeResult | undefined, what: string): string {
  if (probe === undefined) return `${what} was not probed`;
  return probe.ok ? `${what} answered` : `${what}: ${probe.reason}`;
}

/** One line per service for the launcher's summary, with passwords masked. */
export function describeChoice(name: string, choice: ServiceChoice): string {
  // The embedded server's password is a fixed, documented local one: show it so the URL works
  // when pasted into psql. Anything the user supplied is masked.
  const url = choice.kind === 'embedded' ? choice.url : redact(choice.url);
  switch (choice.kind) {
    case 'env':
      return `${name}: ${url} (from ${choice.variable})`;
    case 'local':
      return `${name}: ${url} (local service)`;
    case 'embedded':
      return `${name}: ${url} (embedded, started by the launcher)`;
  }
}

export function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return url;
  }
}

/**
 * PVC mode (`ROAM_STACK_RESULTS=pvc`): where the tenant volumes are, for the apps'
 * RESULTS_PVC_ROOT, and where the simulator keeps claims. With the simulator both come from
 * the state directory (`<state>/volumes/<namespace>/<claim>/`, read back through the root's
 * `{tenant}` segment); a real cluster's volumes must be mounted and named by the user.
 */
export function planResultVolumes(input: {
  results: 's3' | 'pvc';
  pvcRoot: string | undefined;
  kube: ServicePlan['kube']['kind'];
  stateDir: string;
}): { pvcRoot: string; simVolumesDir?: string } | undefined {
  if (input.results !== 'pvc') return undefined;
  const simVolumesDir = join(input.stateDir, 'volumes');
  if (input.kube === 'simulator')
    return {
      pvcRoot: input.pvcRoot ?? join(simVolumesDir, 'roam-{tenant}', 'roam-results'),
      simVolumesDir,
    };
  if (!input.pvcRoot)
    throw new Error(
      'ROAM_STACK_RESULTS=pvc with a real cluster needs RESULTS_PVC_ROOT: where the tenant volumes are mounted on this machine',
    );
  return { pvcRoot: input.pvcRoot };
}
