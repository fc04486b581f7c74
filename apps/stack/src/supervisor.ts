import { type ChildProcess, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';

import { type BackoffPolicy, nextCrashCount, restartDelay } from './backoff.js';

export interface ChildSpec {
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Run as this user (the launcher runs as root and the process refuses root, e.g. Postgres). */
  uid?: number;
  gid?: number;
  /** Signal that asks the process to stop; SIGTERM unless it has a better one (Postgres: SIGINT). */
  stopSignal?: NodeJS.Signals;
}

export type SupervisorEvent =
  | { type: 'spawn'; name: string; pid: number; restarts: number }
  | {
      type: 'exit';
      name: string;
      pid: number | undefined;
      code: number | null;
      signal: NodeJS.Signals | null;
      uptimeMs: number;
      /** True when the launcher asked it to stop; such an exit is not restarted. */
      expected: boolean;
    }
  | { type: 'restart-scheduled'; name: string; delayMs: number; crashes: number }
  | { type: 'spawn-error'; name: string; error: Error }
  | { type: 'killed'; name: string; pid: number }
  | { type: 'line'; name: string; stream: 'stdout' | 'stderr'; line: string };

export interface SupervisorOptions {
  policy: BackoffPolicy;
  /** How long a process gets after its stop signal before SIGKILL. */
  graceMs: number;
  /** Human-readable lifecycle messages (restarts, kills). */
  log?: (message: string) => void;
}

interface Entry {
  spec: ChildSpec;
  child?: ChildProcess | undefined;
  startedAt: number;
  crashes: number;
  restarts: number;
  restartTimer?: NodeJS.Timeout | undefined;
  stopping: boolean;
  /** Resolves when the current process has exited (or at once when none runs). */
  exited: Promise<void>;
}

/**
 * Keeps child processes running like docker compose's `restart: unless-stopped`: any exit the
 * supervisor did not ask for (a crash, `kill -9`, even exit code 0) is restarted after an
 * exponential backoff. Each child leads its own process group, so a terminal's Ctrl-C reaches
 * only the launcher, which then stops children in dependency order, and a stop signal reaches
 * anything the child spawned.
 *
 * Every lifecycle step is emitted as an `event` (see SupervisorEvent), which is what tests and
 * the launcher's log synchronise on.
 */
export class Supervisor extends EventEmitter<{ event: [SupervisorEvent] }> {
  private readonly entries = new Map<string, Entry>();
  private readonly log: (message: string) => void;

  constructor(private readonly options: SupervisorOptions) {
    super();
    this.log = options.log ?? (() => undefined);
  }

  /** Starts a child and keeps it running until `stop`. Names are unique. */
  start(spec: ChildSpec): void {
    if (this.entries.has(spec.name)) throw new Error(`${spec.name} is already supervised`);
    const entry: Entry = {
      spec,
      startedAt: 0,
      crashes: 0,
      restarts: 0,
      stopping: false,
      exited: Promise.resolve(),
    };
    this.entries.set(spec.name, entry);
    this.spawn(entry);
  }

  pid(name: string): number | undefined {
    return this.entries.get(name)?.child?.pid;
  }

  names(): string[] {
    return [...this.entries.keys()];
  }

  /**
   * Stops the named children (all when omitted) in parallel: stop signal to the process group,
   * then SIGKILL for any still alive after the grace period. Resolves once all have exited.
   */
  async stop(names?: string[]): Promise<void> {
    const targets = (names ?? [...this.entries.keys()])
      .map((name) => this.entries.get(name))
      .filter((entry): entry is Entry => entry !== undefined);
    await Promise.all(targets.map((entry) => this.stopEntry(entry)));
    for (const entry of targets) this.entries.delete(entry.spec.name);
  }

  /**
   * Last resort for a launcher that is exiting without a clean stop (uncaught error): SIGKILL
   * every process group synchronously so no child outlives it.
   */
  killAllNow(): void {
    for (const entry of this.entries.values()) {
      if (entry.restartTimer) clearTimeout(entry.restartTimer);
      entry.stopping = true;
      const pid = entry.child?.pid;
      if (pid !== undefined && entry.child?.exitCode === null) signalGroup(pid, 'SIGKILL');
    }
  }

  private spawn(entry: Entry): void {
    const { spec } = entry;
    entry.restartTimer = undefined;
    let child: ChildProcess;
    try {
      child = spawn(spec.command, spec.args, {
        env: spec.env ?? process.env,
        cwd: spec.cwd,
        uid: spec.uid,
        gid: spec.gid,
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      });
    } catch (err) {
      // Synchronous failures (bad uid, bad cwd) crash-loop like any other failure.
      const error = err instanceof Error ? err : new Error(String(err));
      this.emit('event', { type: 'spawn-error', name: spec.name, error });
      this.log(`${spec.name} could not be started: ${error.message}`);
      this.onExit(entry, undefined, null, null);
      return;
    }
    entry.child = child;
    entry.startedAt = Date.now();
    let resolveExited!: () => void;
    entry.exited = new Promise((resolve) => (resolveExited = resolve));

    for (const stream of ['stdout', 'stderr'] as const) {
      const source = child[stream];
      if (!source) continue;
      onLines(source, (line) =>
        this.emit('event', { type: 'line', name: spec.name, stream, line }),
      );
    }

    let done = false;
    const finish = (code: number | null, signal: NodeJS.Signals | null) => {
      if (done) return;
      done = true;
      resolveExited();
      this.onExit(entry, child.pid, code, signal);
    };
    child.once('exit', finish);
    child.once('error', (error) => {
      // 'error' without a pid means the spawn itself failed (ENOENT, EACCES) and no 'exit' follows.
      this.emit('event', { type: 'spawn-error', name: spec.name, error });
      this.log(`${spec.name} could not be started: ${error.message}`);
      if (child.pid === undefined) finish(null, null);
    });
    if (child.pid !== undefined) {
      this.emit('event', {
        type: 'spawn',
        name: spec.name,
        pid: child.pid,
        restarts: entry.restarts,
      });
    }
  }

  private onExit(
    entry: Entry,
    pid: number | undefined,
    code: number | null,
    signal: NodeJS.Signals | null,
  ): void {
    const uptimeMs = entry.startedAt ? Date.now() - entry.startedAt : 0;
    entry.child = undefined;
    this.emit('event', {
      type: 'exit',
      name: entry.spec.name,
      pid,
      code,
      signal,
      uptimeMs,
      expected: entry.stopping,
    });
    if (entry.stopping) return;

    entry.crashes = nextCrashCount(entry.crashes, uptimeMs, this.options.policy);
    const delayMs = restartDelay(entry.crashes, this.options.policy);
    const how = signal ? `was killed by ${signal}` : `exited with code ${code ?? 'unknown'}`;
    this.log(
      `${entry.spec.name} ${how} after ${seconds(uptimeMs)}; restarting in ${seconds(delayMs)} (restart #${entry.restarts + 1}, ${entry.crashes} in a row)`,
    );
    this.emit('event', {
      type: 'restart-scheduled',
      name: entry.spec.name,
      delayMs,
      crashes: entry.crashes,
    });
    entry.restartTimer = setTimeout(() => {
      if (entry.stopping) return;
      entry.restarts += 1;
      this.spawn(entry);
    }, delayMs);
  }

  private async stopEntry(entry: Entry): Promise<void> {
    entry.stopping = true;
    if (entry.restartTimer) {
      clearTimeout(entry.restartTimer);
      entry.restartTimer = undefined;
    }
    const child = entry.child;
    const pid = child?.pid;
    if (!child || pid === undefined || child.exitCode !== null || child.signalCode !== null) return;

    signalGroup(pid, entry.spec.stopSignal ?? 'SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<'grace-over'>((resolve) => {
      timer = setTimeout(() => resolve('grace-over'), this.options.graceMs);
    });
    const outcome = await Promise.race([entry.exited.then(() => 'exited' as const), graceOver]);
    clearTimeout(timer);
    if (outcome === 'grace-over') {
      this.log(
        `${entry.spec.name} did not stop within ${seconds(this.options.graceMs)}; sending SIGKILL`,
      );
      this.emit('event', { type: 'killed', name: entry.spec.name, pid });
      signalGroup(pid, 'SIGKILL');
      await entry.exited;
    }
    // Anything the child left behind in its group (a grandchild that ignored the signal) goes too.
    // Group only: the pid itself may already belong to an unrelated process.
    signalGroup(pid, 'SIGKILL', false);
  }
}

/**
 * Calls `onLine` for every line of `source` (without its `\n` or `\r\n`), the last one even
 * without a final newline. A lighter splitter than readline's: the launcher relays every line
 * its children print, which under load is thousands a second.
 */
export function onLines(source: Readable, onLine: (line: string) => void): void {
  const decoder = new StringDecoder('utf8');
  let partial = '';
  const emit = (text: string) => {
    let start = 0;
    let newline: number;
    while ((newline = text.indexOf('\n', start)) !== -1) {
      const end = newline > start && text.charCodeAt(newline - 1) === 13 ? newline - 1 : newline;
      onLine(text.slice(start, end));
      start = newline + 1;
    }
    partial = text.slice(start);
  };
  source.on('data', (chunk: Buffer) => emit(partial + decoder.write(chunk)));
  source.on('end', () => {
    const rest = partial + decoder.end();
    partial = '';
    if (rest) onLine(rest.endsWith('\r') ? rest.slice(0, -1) : rest);
  });
}

function signalGroup(pid: number, signal: NodeJS.Signals, fallbackToPid = true): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // No such group: the child (still running) moved to a group of its own; signal it directly.
    if (!fallbackToPid) return;
    try {
      process.kill(pid, signal);
    } catch {
      /* already exited */
    }
  }
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)}s`;
}
