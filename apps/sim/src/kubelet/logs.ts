// Container logs kept in memory per pod uid and container, with live followers.
import type { ServerResponse } from 'node:http';
import type { Pod } from '../api/models.js';
import type { KubeObject } from '../api/registry.js';
import type { LogOptions, LogProvider } from '../api/server.js';
import { ApiError, errors } from '../api/status.js';

interface Line {
  at: number;
  text: string;
}

interface ContainerLog {
  lines: Line[];
  done: boolean;
  followers: Set<(line: Line | null) => void>;
}

const MAX_LINES = 10_000;

export class LogStore implements LogProvider {
  private readonly logs = new Map<string, Map<string, ContainerLog>>();

  private entry(podUid: string, container: string): ContainerLog {
    let pod = this.logs.get(podUid);
    if (!pod) this.logs.set(podUid, (pod = new Map<string, ContainerLog>()));
    let c = pod.get(container);
    if (!c) pod.set(container, (c = { lines: [], done: false, followers: new Set() }));
    return c;
  }

  /** Marks a container as (re)started so followers stay attached. */
  started(podUid: string, container: string): void {
    this.entry(podUid, container).done = false;
  }

  append(podUid: string, container: string, text: string): void {
    const c = this.entry(podUid, container);
    for (const part of text.split('\n')) {
      const line = { at: Date.now(), text: part };
      c.lines.push(line);
      for (const f of c.followers) f(line);
    }
    if (c.lines.length > MAX_LINES) c.lines.splice(0, c.lines.length - MAX_LINES);
  }

  finish(podUid: string, container: string): void {
    const c = this.entry(podUid, container);
    c.done = true;
    for (const f of c.followers) f(null);
    c.followers.clear();
  }

  forget(podUid: string): void {
    const pod = this.logs.get(podUid);
    if (!pod) return;
    for (const c of pod.values()) {
      for (const f of c.followers) f(null);
    }
    this.logs.delete(podUid);
  }

  text(podUid: string, container: string): string {
    return (this.logs.get(podUid)?.get(container)?.lines ?? []).map((l) => `${l.text}\n`).join('');
  }

  stream(obj: KubeObject, opts: LogOptions, out: ServerResponse): void {
    const pod = obj as Pod;
    const containers = (pod.spec?.containers ?? []).map((c) => c.name);
    const inits = (pod.spec?.initContainers ?? []).map((c) => c.name);
    const name = pod.metadata.name ?? '';
    let container = opts.container;
    if (!container) {
      if (containers.length !== 1) {
        throw errors.badRequest(
          `a container name must be specified for pod ${name}, choose one of: [${containers.join(' ')}]${inits.length ? ` or one of the init containers: [${inits.join(' ')}]` : ''}`,
        );
      }
      container = containers[0]!;
    }
    if (!containers.includes(container) && !inits.includes(container)) {
      throw errors.badRequest(`container ${container} is not valid for pod ${name}`);
    }
    const log = this.logs.get(pod.metadata.uid ?? '')?.get(container);
    if (!log) {
      const statuses = [
        ...(pod.status?.initContainerStatuses ?? []),
        ...(pod.status?.containerStatuses ?? []),
      ];
      const reason =
        statuses.find((s) => s.name === container)?.state?.waiting?.reason ?? 'ContainerCreating';
      throw new ApiError(
        400,
        'BadRequest',
        `container "${container}" in pod "${name}" is waiting to start: ${reason}`,
      );
    }
    let lines = log.lines;
    const since =
      opts.sinceSeconds !== undefined
        ? Date.now() - opts.sinceSeconds * 1000
        : opts.sinceTime
          ? Date.parse(opts.sinceTime)
          : undefined;
    if (since !== undefined) lines = lines.filter((l) => l.at >= since);
    if (opts.tailLines !== undefined)
      lines = opts.tailLines <= 0 ? [] : lines.slice(-opts.tailLines);
    const fmt = (l: Line) =>
      opts.timestamps ? `${new Date(l.at).toISOString()} ${l.text}\n` : `${l.text}\n`;
    out.writeHead(200, { 'Content-Type': 'text/plain', 'Transfer-Encoding': 'chunked' });
    let budget = opts.limitBytes ?? Infinity;
    const write = (text: string): boolean => {
      if (budget <= 0) return false;
      const chunk =
        Buffer.byteLength(text) > budget ? Buffer.from(text).subarray(0, budget).toString() : text;
      budget -= Buffer.byteLength(chunk);
      out.write(chunk);
      return budget > 0;
    };
    const initial = lines.map(fmt).join('');
    if (initial) write(initial);
    if (!opts.follow || log.done || budget <= 0) {
      out.end();
      return;
    }
    out.flushHeaders();
    const follower = (line: Line | null) => {
      if (line === null || !write(fmt(line))) {
        log.followers.delete(follower);
        out.end();
      }
    };
    log.followers.add(follower);
    out.on('close', () => log.followers.delete(follower));
  }
}
