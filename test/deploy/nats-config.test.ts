import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from '@jest/globals';
import { subjects, wildcards } from '@roam/contracts';
import { busApps, busRoles, natsPasswordVariable } from '@roam/messaging';
import { parse } from 'yaml';

import { shippedNatsConfig, shippedNatsConfigPath } from '../../scripts/nats-config.js';
import { repoRoot } from './deploy-helpers.js';

/** Every `@JetStreamEventPattern(subjects.a.b)` / `(wildcards.x)` under a folder. */
function handledSubjects(dir: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts') || entry.name.endsWith('.spec.ts')) continue;
    const source = readFileSync(join(entry.parentPath, entry.name), 'utf8');
    for (const match of source.matchAll(
      // The subject, then the handler's consumer options if any.
      /JetStreamEventPattern\((subjects|wildcards)\.([\w.]+)[,)]/g,
    )) {
      const [, root = '', path = ''] = match;
      const value = path
        .split('.')
        .reduce<unknown>(
          (node, key) => (node as Record<string, unknown>)[key],
          root === 'subjects' ? subjects : wildcards,
        );
      found.push(String(value));
    }
  }
  return found.sort();
}

describe('NATS authorization', () => {
  it('ships the configuration generated from the bus roles (pnpm nats:config)', () => {
    expect(readFileSync(shippedNatsConfigPath, 'utf8')).toBe(shippedNatsConfig());
  });

  it.each(busApps)('lets %s consume exactly what its handlers listen to', (app) => {
    const handled = handledSubjects(join(repoRoot, 'apps', app, 'src'));
    expect(handled).toEqual([...busRoles[app].consumes].sort());
  });

  it.each(busApps)('docker-compose.yml logs %s in as its own user', (app) => {
    const compose = parse(readFileSync(join(repoRoot, 'docker-compose.yml'), 'utf8')) as {
      services: Record<string, { environment?: Record<string, string>; volumes?: string[] }>;
    };
    const nats = compose.services['nats'];
    expect(nats?.volumes).toContain('./deploy/nats/nats.conf:/etc/nats/nats.conf:ro');
    const env = compose.services[app]?.environment;
    expect(env?.['NATS_USER']).toBe(app);
    // The app's password and the server's variable resolve the same way.
    expect(env?.['NATS_PASSWORD']).toBe(nats?.environment?.[natsPasswordVariable(app)]);
  });
});
