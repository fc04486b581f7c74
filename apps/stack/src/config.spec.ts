import { describe, expect, it } from '@jest/globals';

import { appPorts, helpText, loadStackConfig, StackConfigError } from './config.js';

const root = '/repo';

function errorOf(env: NodeJS.ProcessEnv): StackConfigError {
  try {
    loadStackConfig(env, root);
  } catch (err) {
    if (err instanceof StackConfigError) return err;
    throw err;
  }
  throw new Error('expected a StackConfigError');
}

describe('loadStackConfig', () => {
  it('has defaults for everything', () => {
    const config = loadStackConfig({}, root);
    expect(config.PORT).toBe(8000);
    expect(config.workerBasePort).toBe(8001);
    expect(config.stateDir).toBe('/repo/.roam');
    expect(config.ROAM_STACK_APPS).toHaveLength(7);
    expect(config.DATABASE_URL).toBeUndefined();
    expect(appPorts(config)).toEqual({
      gateway: 8000,
      scheduler: 8001,
      reconciler: 8002,
      storage: 8003,
      offload: 8004,
      failover: 8005,
      notifier: 8006,
    });
  });

  it('moves the workers along with the gateway port unless given their own base', () => {
    expect(appPorts(loadStackConfig({ PORT: '9000' }, root)).notifier).toBe(9006);
    expect(
      appPorts(loadStackConfig({ PORT: '9000', ROAM_STACK_WORKER_BASE_PORT: '7001' }, root))
        .scheduler,
    ).toBe(7001);
  });

  it('names the bad variable and what it held', () => {
    const err = errorOf({ ROAM_STACK_PG_PORT: 'five' });
    expect(err.issues.map((i) => i.variable)).toEqual(['ROAM_STACK_PG_PORT']);
    expect(err.message).toContain('ROAM_STACK_PG_PORT');
    expect(err.message).toContain('"five"');
  });

  it('lists every bad variable at once', () => {
    const err = errorOf({
      PORT: '70000',
      DATABASE_URL: 'mysql://x',
      ROAM_STACK_APPS: 'gateway,frontend',
      ROAM_ADMIN_TOKEN: 'short',
      LOG_LEVEL: 'loud',
    });
    expect(err.issues.map((i) => i.variable).sort()).toEqual(
      ['DATABASE_URL', 'LOG_LEVEL', 'PORT', 'ROAM_ADMIN_TOKEN', 'ROAM_STACK_APPS'].sort(),
    );
  });

  it('accepts a subset of apps and treats empty variables as unset', () => {
    const config = loadStackConfig(
      { ROAM_STACK_APPS: 'gateway, scheduler', DATABASE_URL: '' },
      root,
    );
    expect(config.ROAM_STACK_APPS).toEqual(['gateway', 'scheduler']);
    expect(config.DATABASE_URL).toBeUndefined();
  });

  it('reads the embedded Postgres settings as name=value pairs, and refuses anything else', () => {
    expect(loadStackConfig({}, root).ROAM_STACK_PG_SETTINGS).toEqual([]);
    expect(
      loadStackConfig(
        {
          ROAM_STACK_PG_SETTINGS:
            ' shared_preload_libraries=pg_stat_statements  pg_stat_statements.track=all ',
        },
        root,
      ).ROAM_STACK_PG_SETTINGS,
    ).toEqual(['shared_preload_libraries=pg_stat_statements', 'pg_stat_statements.track=all']);
    // Each becomes one `-c` option: no stray argument can reach the server's command line.
    for (const bad of ['-D /elsewhere', 'work_mem', '=1', 'a=1 --single'])
      expect([
        ...new Set(errorOf({ ROAM_STACK_PG_SETTINGS: bad }).issues.map((i) => i.variable)),
      ]).toEqual(['ROAM_STACK_PG_SETTINGS']);
  });

  it('resolves a relative state dir against the working directory', () => {
    expect(loadStackConfig({ ROAM_STACK_STATE_DIR: '/tmp/x' }, root).stateDir).toBe('/tmp/x');
  });
});

describe('helpText', () => {
  it('documents every variable with its default', () => {
    const text = helpText();
    expect(text).toContain('ROAM_STACK_GRACE_MS (default 15000)');
    expect(text).toContain('PORT (default 8000)');
    expect(text).toContain('DATABASE_URL');
  });
});
