import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The admin token from `<stateDir>/admin-token`, created on first use with 256 random bits and
 * mode 600, so the token (and any scripts or bookmarks using it) survives restarts.
 */
export async function adminToken(
  stateDir: string,
): Promise<{ token: string; path: string; created: boolean }> {
  const path = join(stateDir, 'admin-token');
  await mkdir(stateDir, { recursive: true });
  try {
    const token = (await readFile(path, 'utf8')).trim();
    if (token.length >= 16) {
      await chmod(path, 0o600);
      return { token, path, created: false };
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const token = randomBytes(32).toString('base64url');
  await writeFile(path, `${token}\n`, { mode: 0o600 });
  await chmod(path, 0o600);
  return { token, path, created: true };
}

export class AlreadyRunningError extends Error {
  constructor(
    readonly pid: number,
    lockPath: string,
  ) {
    super(
      `another roam stack is already running (pid ${pid}, lock ${lockPath}). ` +
        `Stop it with Ctrl-C in its terminal or \`kill ${pid}\`, or give this one its own ROAM_STACK_STATE_DIR and ports.`,
    );
    this.name = 'AlreadyRunningError';
  }
}

/**
 * One launcher per state directory: a lock file holding the launcher's pid. A lock whose pid is
 * gone (the launcher was killed with -9) is stale and taken over.
 */
export async function acquireLock(
  stateDir: string,
): Promise<{ path: string; release(): Promise<void> }> {
  const path = join(stateDir, 'stack.lock');
  await mkdir(stateDir, { recursive: true });
  const content = JSON.stringify({ pid: process.pid, startedAt: new Date().toISOString() });
  for (let attempt = 0; ; attempt++) {
    try {
      await writeFile(path, content, { flag: 'wx' });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw err;
      const holder = await lockHolder(path);
      if (holder !== undefined && holder !== process.pid && alive(holder))
        throw new AlreadyRunningError(holder, path);
      await unlink(path).catch(() => undefined);
    }
  }
  return {
    path,
    async release() {
      if ((await lockHolder(path)) === process.pid) await unlink(path).catch(() => undefined);
    },
  };
}

async function lockHolder(path: string): Promise<number | undefined> {
  try {
    const parsed = JSON.parse(await readFile(path, 'utf8')) as { pid?: unknown };
    return typeof parsed.pid === 'number' ? parsed.pid : undefined;
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else, so it is alive.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
