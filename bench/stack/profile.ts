/** Top self-time functions of `node --cpu-prof` profiles, by the process that wrote them. */
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileSummary {
  file: string;
  /** The process, from the entry script its profile contains. */
  name: string;
  pid: number;
  totalMs: number;
  top: { name: string; ms: number; share: number }[];
}

/** Self time by function (name and source location), idle excluded, largest first. */
export async function summariseProfiles(
  dir: string,
  root: string,
  topN = 12,
): Promise<ProfileSummary[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.cpuprofile'));
  const summaries: ProfileSummary[] = [];
  for (const file of files) {
    const profile = JSON.parse(await readFile(join(dir, file), 'utf8')) as CpuProfile;
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    const entries = new Set(profile.nodes.map((n) => n.callFrame.url));
    const selfUs = new Map<string, number>();
    let totalUs = 0;
    profile.samples.forEach((id, i) => {
      const node = byId.get(id);
      if (!node) return;
      const { functionName, url, lineNumber } = node.callFrame;
      if (functionName === '(idle)') return;
      const where = url ? `${relative(root, url.replace(/^file:\/\//, ''))}:${lineNumber + 1}` : '';
      const name = `${functionName || '(anonymous)'}${where ? ` ${where}` : ''}`;
      const us = profile.timeDeltas[i] ?? 0;
      selfUs.set(name, (selfUs.get(name) ?? 0) + us);
      totalUs += us;
    });
    const top = [...selfUs.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, topN)
      .map(([name, us]) => ({ name, ms: us / 1000, share: totalUs ? us / totalUs : 0 }));
    // CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile
    const pid = Number(file.split('.')[3]);
    summaries.push({
      file,
      name: processOf(entries) ?? `pid ${pid}`,
      pid,
      totalMs: totalUs / 1000,
      top,
    });
  }
  return summaries;
}

function processOf(urls: Set<string>): string | undefined {
  for (const url of urls) {
    if (url.endsWith('apps/stack/dist/s3-server.js')) return 's3 server';
    const app = /apps\/([a-z-]+)\/dist\/main\.js$/.exec(url);
    if (app) return app[1] === 'stack' ? 'launcher' : app[1] === 'sim' ? 'simulator' : app[1];
  }
  return undefined;
}
