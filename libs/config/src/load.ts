import { type z } from 'zod';

/** Thrown at boot when the environment does not satisfy an app's schema; lists every bad key. */
export class ConfigError extends Error {
  constructor(
    readonly app: string,
    readonly issues: readonly { key: string; message: string }[],
  ) {
    super(
      `${app}: invalid configuration:\n` +
        issues.map((issue) => `  - ${issue.key}: ${issue.message}`).join('\n'),
    );
    this.name = 'ConfigError';
  }
}

export type Env = Record<string, string | undefined>;

/**
 * Parses `env` with `schema`. Empty strings count as unset, so `FOO=` in a compose file falls
 * back to the default instead of failing a number or URL check.
 */
export function loadConfig<S extends z.ZodObject>(
  app: string,
  schema: S,
  env: Env = process.env,
): z.infer<S> {
  const cleaned: Env = {};
  for (const key of Object.keys(schema.shape)) {
    const value = env[key];
    if (value !== undefined && value !== '') cleaned[key] = value;
  }
  const result = schema.safeParse(cleaned);
  if (!result.success) {
    throw new ConfigError(
      app,
      result.error.issues.map((issue) => ({
        key: issue.path.join('.') || '(root)',
        message: issue.message,
      })),
    );
  }
  return result.data;
}

/** Prints a ConfigError and exits with EX_CONFIG (78); anything else is rethrown. */
export function exitOnConfigError(error: unknown): never {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(78);
  }
  throw error;
}
