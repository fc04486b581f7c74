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
  /** When the process started, in ticks after boot: with the pid, which process this is. */
  started: number;
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
    started: Number(fields[19]),
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

/** What Postgres's own statistics say of its processes at one moment. */
export interface BackendCpu {
  /**
   * CPU of each live backend, by `<pid>:<start time>` (a pid reused during a burst is another
   * backend): client backends named by their app, others by type.
   */
  ms: Map<string, { app: string; ms: number }>;
  /** Sessions ever opened on the stack's database (`pg_stat_database.sessions`). */
  sessions: number;
  /** Autovacuum and autoanalyze time of every table so far (ms, wall; PostgreSQL 18). */
  vacuumMs: number | undefined;
}

interface Queryable {
  query(text: string): Promise<{ rows: Record<string, unknown>[] }>;
}

/**
 * CPU of every backend now alive, named by its `application_name` (`roam-<app>`; this bench's
 * own connections have none) or, for the server's own processes, by its type. Read from
 * pg_stat_activity and /proc, with the database's session count and autovacuum time.
 */
export async function snapshotBackends(db: Queryable): Promise<BackendCpu> {
  const { rows } = await db.query(
    `SELECT pid, backend_type AS type, application_name AS app FROM pg_stat_activity`,
  );
  const ms = new Map<string, { app: string; ms: number }>();
  for (const row of rows) {
    const stat = readStat(Number(row.pid));
    if (!stat) continue;
    const app =
      row.type === 'client backend'
        ? (typeof row.app === 'string' ? row.app : '').replace(/^roam-/, '') || 'bench'
        : String(row.type);
    ms.set(`${stat.pid}:${stat.started}`, { app, ms: (stat.self * 1000) / TICKS_PER_SECOND });
  }
  const sessions = await db.query(
    `SELECT sessions FROM pg_stat_database WHERE datname = current_database()`,
  );
  const vacuum = await db
    .query(
      `SELECT sum(total_autovacuum_time + total_autoanalyze_time) AS ms FROM pg_stat_all_tables`,
    )
    .then(
      (result) => Number(result.rows[0]?.ms ?? 0),
      () => undefined,
    );
  return { ms, sessions: Number(sessions.rows[0]?.sessions ?? 0), vacuumMs: vacuum };
}

/**
 * Postgres CPU used between two snapshots by the backends of each client app (and each kind
 * of server process). A backend that ended in between is not in `after` (its time is the rest
 * of the postgres figure).
 */
export function backendDelta(before: BackendCpu, after: BackendCpu): Map<string, number> {
  const delta = new Map<string, number>();
  for (const [key, { app, ms }] of after.ms)
    delta.set(app, (delta.get(app) ?? 0) + ms - (before.ms.get(key)?.ms ?? 0));
  return delta;
}
