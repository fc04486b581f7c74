import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface Credentials {
  url: string;
  apiKey: string;
}

/** `$XDG_CONFIG_HOME/roam` (default `~/.config/roam`). */
export const configDir = (env = process.env): string =>
  join(env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'roam');

export const configFile = (env = process.env): string => join(configDir(env), 'config.json');

/** What `roam login` stored, with `ROAM_URL` and `ROAM_API_KEY` taking precedence. */
export async function loadCredentials(env = process.env): Promise<Partial<Credentials>> {
  let stored: Partial<Credentials> = {};
  try {
    stored = JSON.parse(await readFile(configFile(env), 'utf8')) as Partial<Credentials>;
  } catch {
    // not logged in yet
  }
  return {
    ...stored,
    ...(env.ROAM_URL ? { url: env.ROAM_URL } : {}),
    ...(env.ROAM_API_KEY ? { apiKey: env.ROAM_API_KEY } : {}),
  };
}

/** Writes the credentials readable by the user alone (directory 0700, file 0600). */
export async function saveCredentials(
  credentials: Credentials,
  env = process.env,
): Promise<string> {
  await mkdir(configDir(env), { recursive: true, mode: 0o700 });
  const file = configFile(env);
  await writeFile(file, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
  await chmod(file, 0o600);
  return file;
}
