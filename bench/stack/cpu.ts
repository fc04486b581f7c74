/**
 * CPU time per process of a running stack, from /proc/<pid>/stat (Linux only).
 *
 * Each of the launcher's children is counted with everything below it: its own utime+stime,
 * the time of children it already reaped (cutime+cstime: Postgres backends that came and went)
 * and, recursively, its live descendants. The launcher counts only itself.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());

interface Stat {
  pid: number;
  ppid: number;
  /** utime + stime, in ticks. */
  self: number;
  /** cutime + cstime: reaped children, in ticks. */
  reaped: number;
}

function readStat(pid: number): Stat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces and parentheses: split after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state): ppid is field 4, utime..cstime are fields 14..17.
  return {
    pid,
    ppid: Number(fields[1]),
    self: Number(fields[11]) + Number(fields[12]),
    reaped: Number(fields[13]) + Number(fields[14]),
  };
}

function cmdline(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return [];
  }
}

/** The stack's name for one of the launcher's children, from its command line. */
export function processName(args: string[]): string {
  const joined = args.join(' ');
  const app = /apps\/([a-z-]+)\/dist\/main\.js/.exec(joined);
  if (app) return app[1] === 'sim' ? 'simulator' : app[1]!;
  if (joined.includes('s3-server.js')) return 's3 server';
  if (/nats-server/.test(args[0] ?? '')) return 'nats';
  if (/postgres/.test(args[0] ?? '')) return 'postgres';
  return args[0] ?? 'unknown';
}

/** Milliseconds of CPU by process name, plus `launcher`; and which pid carries each name. */
export interface CpuSnapshot {
  ms: Map<string, number>;
  pids: Map<string, number>;
}

export function snapshotCpu(launcherPid: number): CpuSnapshot {
  const stats = new Map<number, Stat>();
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (!stat) continue;
    stats.set(stat.pid, stat);
    const siblings = children.get(stat.ppid) ?? [];
    siblings.push(stat.pid);
    children.set(stat.ppid, siblings);
  }
  const tree = (pid: number): number => {
    const stat = stats.get(pid);
    if (!stat) return 0;
    return stat.self + stat.reaped + (children.get(pid) ?? []).reduce((sum, c) => sum + tree(c), 0);
  };
  const toMs = (ticks: number) => (ticks * 1000) / TICKS_PER_SECOND;
  const ms = new Map<string, number>([['launcher', toMs(stats.get(launcherPid)?.self ?? 0)]]);
  const pids = new Map<string, number>([['launcher', launcherPid]]);
  for (const pid of children.get(launcherPid) ?? []) {
    const name = processName(cmdline(pid));
    ms.set(name, (ms.get(name) ?? 0) + toMs(tree(pid)));
    pids.set(name, pid);
  }
  return { ms, pids };
}

/** CPU used between two snapshots, by name. */
export function cpuDelta(before: CpuSnapshot, after: CpuSnapshot): Map<string, number> {
  const delta = new Map<string, number>();
  for (const [name, ms] of after.ms) delta.set(name, ms - (before.ms.get(name) ?? 0));
  return delta;
}

/** The processes that are roam itself (not the test bed: simulator, s3 server, launcher). */
export const TEST_BED = new Set(['simulator', 's3 server', 'launcher']);

/** Milliseconds of CPU each Postgres client backend has used, by backend pid. */
export interface BackendCpu {
  ms: Map<number, { app: string; ms: number }>;
}

/**
 * CPU of every client backend now connected, named by its `application_name` (`roam-<app>`;
 * this bench's own connections have none). Read from pg_stat_activity and /proc.
 */
export async function snapshotBackends(db: {
  query(text: string): Promise<{ rows: { pid: number; app: string }[] }>;
}): Promise<BackendCpu> {
  const { rows } = await db.query(
    `SELECT pid, application_name AS app FROM pg_stat_activity WHERE backend_type = 'client backend'`,
  );
  const ms = new Map<number, { app: string; ms: number }>();
  for (const { pid, app } of rows) {
    const stat = readStat(pid);
    if (stat)
      ms.set(pid, {
        app: app.replace(/^roam-/, '') || 'bench',
        ms: (stat.self * 1000) / TICKS_PER_SECOND,
      });
  }
  return { ms };
}

/**
 * Postgres CPU used between two snapshots by the backends of each client app. A backend that
 * ended in between is not in `after` (its time is the rest of the postgres figure).
 */
export function backendDelta(before: BackendCpu, after: BackendCpu): Map<string, number> {
  const delta = new Map<string, number>();
  for (const [pid, { app, ms }] of after.ms)
    delta.set(app, (delta.get(app) ?? 0) + ms - (before.ms.get(pid)?.ms ?? 0));
  return delta;
}
