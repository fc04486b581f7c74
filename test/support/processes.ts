import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * The entry point of a built app. Suites never build themselves: a rebuild empties every
 * dist/ while suites in other workers run from it. `pnpm test` builds once, first.
 */
export function builtApp(name: string): string {
  const main = join(root, 'apps', name, 'dist', 'main.js');
  if (!existsSync(main)) throw new Error(`${main} is missing: run \`pnpm build\` first`);
  return main;
}

/** Extra node flags for the apps, e.g. BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/p". */
const nodeArgs = (): string[] => (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);

export interface AppProcess {
  name: string;
  child: ChildProcess;
  url: string;
  /** Everything it printed, for failure messages. */
  output: string[];
}

/**
 * Starts a built app (`apps/<name>/dist/main.js`) as its own process and resolves with its
 * URL once it listens: with `PORT=0` from its "listening" log line (needs LOG_LEVEL info),
 * with a fixed port from its /health/ready (any log level).
 */
export function startApp(name: string, env: Record<string, string>): Promise<AppProcess> {
  const port = Number(env.PORT ?? 0);
  if (port > 0) return startOnPort(name, env, port);
  const child = spawn(process.execPath, [...nodeArgs(), builtApp(name)], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    child.stderr.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    lines.on('line', (line) => {
      output.push(line);
      if (output.length > 400) output.shift();
      try {
        const entry = JSON.parse(line) as { msg?: string; url?: string };
        if (entry.msg === `${name} listening` && entry.url)
          resolve({ name, child, url: entry.url, output });
      } catch {
        // not a log line
      }
    });
    child.once('exit', (code, signal) =>
      reject(
        new Error(
          `${name} exited (${code ?? signal}) before listening:\n${output.slice(-20).join('\n')}`,
        ),
      ),
    );
  });
}

/** kill -9, and wait until the process is gone. */
export async function killHard(app: AppProcess): Promise<void> {
  if (app.child.exitCode !== null || app.child.signalCode !== null) return;
  const exited = once(app.child, 'exit');
  app.child.kill('SIGKILL');
  await exited;
}

/** SIGTERM and wait; resolves with the exit code. */
export async function stopApp(app: AppProcess): Promise<number | null> {
  if (app.child.exitCode !== null || app.child.signalCode !== null) return app.child.exitCode;
  const exited = once(app.child, 'exit');
  app.child.kill('SIGTERM');
  const [code] = (await exited) as [number | null];
  return code;
}

async function startOnPort(
  name: string,
  env: Record<string, string>,
  port: number,
): Promise<AppProcess> {
  const child = spawn(process.execPath, [...nodeArgs(), builtApp(name)], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const output: string[] = [];
  child.stderr.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`${name} exited (${child.exitCode}):\n${output.join('')}`);
    try {
      if ((await fetch(`${url}/health/ready`)).status === 200) return { name, child, url, output };
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${name} did not become ready on ${url}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
