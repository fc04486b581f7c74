import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type RunningS3rver, startS3rver } from '@roam/object-store';
import { createRoamApp, type RoamApp } from '@roam/runtime';
import { eventually } from '@roam/testing';
import { type Browser, chromium, type Page } from 'playwright-core';

import { failoverEnv } from '../apps/failover/src/failover.config.js';
import { FailoverModule } from '../apps/failover/src/failover.module.js';
import { failoverSettings, WORLD } from '../apps/failover/test/world.js';
import { CONSOLE_DIST } from '../apps/gateway/src/console/console-files.js';
import { storageEnv } from '../apps/storage/src/storage.config.js';
import { StorageModule } from '../apps/storage/src/storage.module.js';
import { SUMO_SCENARIO, zipOf } from '../apps/storage/test/zip-fixtures.js';
import { ADMIN_TOKEN, call, type Harness, register, startHarness } from './support/harness.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SCREENSHOTS = join(import.meta.dirname, '..', 'docs', 'console');
const AXE = await readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/**
 * The console in a real browser (Debian's Chromium, headless) against the whole stack:
 * gateway, scheduler, reconciler, storage and failover workers, the Kubernetes and cloud
 * simulators and s3rver. One browser, one stack; each step leans on the one before it.
 * Every page passes axe-core's WCAG 2 A/AA rules; the main pages are saved as screenshots
 * for docs/console.md.
 */
describe('console in a browser', () => {
  let s3: RunningS3rver;
  let s3dir: string;
  let h: Harness;
  let workers: RoamApp<unknown>[] = [];
  let browser: Browser;
  let page: Page;
  let key: string;
  const tenant = 'console-a';

  beforeAll(async () => {
    if (!existsSync(CHROMIUM))
      throw new Error(`no Chromium at ${CHROMIUM}: apt-get install -y chromium (see .ci/run)`);
    if (!existsSync(join(CONSOLE_DIST, 'index.html')))
      throw new Error('the console is not built: run node scripts/build.mjs');
    s3dir = await mkdtemp(join(tmpdir(), 'roam-console-s3-'));
    s3 = await startS3rver({ directory: s3dir });
    h = await startHarness(
      'console',
      {
        S3_ENDPOINT: s3.endpoint,
        S3_BUCKET: 'roam-console',
        // The webhooks page's endpoint is local; nothing needs to answer it.
        WEBHOOK_ALLOWED_HOSTS: '127.0.0.1/32',
      },
      { world: WORLD },
    );
    workers = [
      await createRoamApp({
        name: 'storage',
        schema: storageEnv,
        module: StorageModule,
        env: { ...h.env, PORT: '0' },
      }),
      await createRoamApp({
        name: 'failover',
        schema: failoverEnv,
        module: FailoverModule,
        env: { ...failoverSettings(h), PORT: '0' },
      }),
    ];
    key = await register(h.url, tenant, { max_cpu: 16, max_memory_gi: 32, max_concurrent_jobs: 8 });
    await eventually(
      'the tenant to be ready',
      async () => (await h.prisma.tenant.findUnique({ where: { id: tenant } }))?.status === 'ready',
    );
    await mkdir(SCREENSHOTS, { recursive: true });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    const context = await browser.newContext({
      acceptDownloads: true,
      viewport: { width: 1280, height: 860 },
    });
    page = await context.newPage();
  });

  afterAll(async () => {
    await browser?.close();
    for (const worker of workers.reverse()) await worker.close();
    await h?.close();
    await s3?.close();
    if (s3dir) await rm(s3dir, { recursive: true, force: true });
  });

  /** axe-core's WCAG 2 A and AA rules over the whole page: no violation. */
  async function expectAccessible(name: string): Promise<void> {
    // Evaluated through the DevTools protocol, so the page's CSP (no inline scripts) holds.
    // Strings, not functions: these run in the page, whose DOM types this project does not load.
    await page.evaluate(AXE);
    const violations = await page.evaluate<string[]>(`
      axe
        .run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } })
        .then((result) => result.violations.map(
          (v) => v.id + ': ' + v.nodes.map((n) => n.target.join(' ')).join(', '),
        ))
    `);
    expect({ page: name, violations }).toEqual({ page: name, violations: [] });
  }

  const shot = (name: string) =>
    page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });

  /** Tabs through the page from its start and returns the controls focus reached, in order. */
  async function tabOrder(presses: number): Promise<string[]> {
    const seen: string[] = [];
    await page.evaluate('document.activeElement && document.activeElement.blur()');
    for (let i = 0; i < presses; i += 1) {
      await page.keyboard.press('Tab');
      seen.push(
        await page.evaluate<string>(`(() => {
          const el = document.activeElement;
          return el ? el.id || el.getAttribute('aria-label') || el.textContent.trim() || el.tagName : '';
        })()`),
      );
    }
    return seen;
  }

  const jobId = () => page.url().split('/jobs/')[1]!;

  it('serves the console from the gateway with a strict CSP and cache policy, and leaves the API locked', async () => {
    const index = await fetch(`${h.url}/console/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toMatch(/^text\/html/);
    expect(index.headers.get('cache-control')).toBe('no-cache');
    const csp = index.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    const html = await index.text();
    const script = /src="(\/console\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    const asset = await fetch(`${h.url}${script}`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(asset.headers.get('x-content-type-options')).toBe('nosniff');

    // A client-side route gets the page; a missing file is a 404 problem, not the page.
    const route = await fetch(`${h.url}/console/jobs/0190`);
    expect(route.status).toBe(200);
    expect(await route.text()).toBe(html);
    const missing = await fetch(`${h.url}/console/assets/nope.js`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toMatch(/problem\+json/);
    const traversal = await fetch(`${h.url}/console/..%2f..%2fpackage.json`);
    expect(traversal.status).toBe(404);
    const bare = await fetch(`${h.url}/console`, { redirect: 'manual' });
    expect(bare.status).toBe(308);
    expect(bare.headers.get('location')).toBe('/console/');
    expect((await fetch(`${h.url}/console/`, { method: 'POST' })).status).toBe(404);
    // The API still wants a key.
    expect((await call(h.url, 'GET', '/api/v1/jobs')).status).toBe(401);
  });

  it('signs in with an API key kept in session storage, never in the URL', async () => {
    await page.goto(`${h.url}/console/`);
    await page.getByRole('heading', { name: 'Sign in to roam' }).waitFor();
    await expectAccessible('sign-in');
    await shot('sign-in');

    await page.getByLabel('API key').fill('sk-not-a-real-key');
    await page.getByLabel('API key').press('Enter');
    await expect(page.getByRole('alert').textContent()).resolves.toMatch(/401/);

    await page.getByLabel('API key').fill(key);
    await page.getByLabel('API key').press('Enter');
    await page.getByRole('heading', { name: 'Jobs' }).waitFor();
    expect(page.url()).not.toContain(key);
    expect(await page.evaluate<string | null>("sessionStorage.getItem('roam.console.key')")).toBe(
      key,
    );
    expect(await page.evaluate<number>('localStorage.length')).toBe(0);
    await page.getByText('Live', { exact: true }).waitFor();
    await expectAccessible('jobs (empty)');
  });

  it('submits from the form by keyboard, watches the job run and succeed live, and follows its log', async () => {
    await page.getByRole('link', { name: 'Submit' }).click();
    await page.getByRole('heading', { name: 'Submit a job' }).waitFor();
    await expectAccessible('submit');

    // Tab reaches every control of the form, in reading order.
    const order = await tabOrder(20);
    for (const control of [
      'field-template',
      'field-name',
      'field-image',
      'field-command',
      'field-cpu',
      'field-memory',
      'field-gpu',
      'field-queue',
      'field-priority',
      'field-labels',
      'field-env',
      'field-annotations',
      'field-inputs',
      'Submit',
    ])
      expect(order).toContain(control);
    expect(order.indexOf('field-image')).toBeLessThan(order.indexOf('field-command'));
    await shot('submit');

    await page.getByLabel('Name').fill('console-hello');
    await page.getByLabel('Image').fill('busybox');
    await page.getByLabel('Labels (key=value, one a line)').fill('team=web');
    // 1,000 simulated seconds: a few real ones at the simulator's speed.
    await page
      .getByLabel('Command (run with sh -c)')
      .fill('echo hello from the console; sleep 1000; echo goodbye');
    await page.getByLabel('Command (run with sh -c)').press('Enter');

    await page.getByRole('heading', { name: /Job console-hello/ }).waitFor();
    const id = jobId();
    const status = page.getByTestId('job-status');
    await expect(status.textContent()).resolves.toMatch(/pending|running/);
    // The page never polls the job: the change comes over the event feed.
    await page.getByTestId('job-status').filter({ hasText: 'running' }).waitFor();
    await page.getByTestId('log').filter({ hasText: 'hello from the console' }).waitFor();
    await page
      .getByTestId('job-status')
      .filter({ hasText: 'succeeded' })
      .waitFor({ timeout: 30_000 });
    await page.getByTestId('log').filter({ hasText: 'goodbye' }).waitFor();
    await page.getByTestId('timeline').filter({ hasText: 'Succeeded' }).waitFor();

    // Search narrows the log to the matching lines.
    await page.getByLabel('Search the log').fill('goodbye');
    expect((await page.getByTestId('log').textContent())?.trim()).toBe('goodbye');
    await page.getByLabel('Search the log').fill('');
    await expectAccessible('job');
    await shot('job');
    expect((await call(h.url, 'GET', `/api/v1/jobs/${id}`, undefined, key)).body.status).toBe(
      'succeeded',
    );
  });

  it('uploads inputs with progress, then downloads a result file and the zip', async () => {
    await page.getByRole('link', { name: 'Submit' }).click();
    await page.getByLabel('Template').selectOption('sumo');
    await page.getByLabel('Name').fill('console-sumo');
    await page.getByLabel('CPU').fill('1');
    await page.getByLabel('Memory').fill('1Gi');
    await page
      .getByLabel('Annotations (key=value, one a line)')
      .fill(
        `sim.roam.dev/files=${JSON.stringify({ '/roam/results/tripinfo.xml': '<tripinfos/>' })}`,
      );
    await page.getByLabel('Inputs (zip or tar.gz, optional)').setInputFiles({
      name: 'scenario.zip',
      mimeType: 'application/zip',
      buffer: await zipOf(SUMO_SCENARIO),
    });
    await page.getByRole('button', { name: 'Submit' }).click();
    await page.getByRole('heading', { name: /Job console-sumo/ }).waitFor();
    await page
      .getByTestId('job-status')
      .filter({ hasText: 'succeeded' })
      .waitFor({ timeout: 30_000 });
    const id = jobId();
    const job = await h.prisma.job.findUniqueOrThrow({ where: { id } });
    expect(job.inputsKey).toBe(`tenants/${tenant}/jobs/${id}/inputs/inputs.zip`);

    // Results are collected by the storage worker after the job ends.
    const fileButton = page.getByRole('button', { name: 'Download tripinfo.xml' });
    await eventually('the result to be listed', async () => {
      if (await fileButton.isVisible()) return true;
      await page.reload();
      await page.getByRole('heading', { name: /Job console-sumo/ }).waitFor();
      return fileButton.isVisible();
    });
    const [file] = await Promise.all([page.waitForEvent('download'), fileButton.click()]);
    expect(file.suggestedFilename()).toBe('tripinfo.xml');
    expect(await readFile(await file.path(), 'utf8')).toBe('<tripinfos/>');
    const [zip] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download all as zip' }).click(),
    ]);
    expect(zip.suggestedFilename()).toBe(`${id}-results.zip`);
    expect((await readFile(await zip.path())).subarray(0, 2).toString()).toBe('PK');
    await expectAccessible('job with results');
    await shot('job-results');
  });

  it('cancels a job from its page, and several from the table at once', async () => {
    const submit = async (name: string) =>
      (
        await call(
          h.url,
          'POST',
          '/api/v1/jobs',
          { name, image: 'busybox', command: ['sleep', '1000000'] },
          key,
        )
      ).body.id as string;
    const single = await submit('console-long');
    const bulk = [await submit('console-bulk-1'), await submit('console-bulk-2')];

    await page.goto(`${h.url}/console/jobs/${single}`);
    await page.getByRole('button', { name: 'Cancel job' }).click();
    await page.getByRole('button', { name: 'Yes, cancel this job' }).click();
    await page.getByTestId('job-status').filter({ hasText: 'cancelled' }).waitFor();

    await page.getByRole('link', { name: 'Jobs' }).click();
    await page.getByRole('heading', { name: 'Jobs' }).waitFor();
    for (const name of ['console-bulk-1', 'console-bulk-2'])
      await page.getByRole('checkbox', { name: `Select job ${name}` }).check();
    await shot('jobs');
    await page.getByRole('button', { name: 'Cancel selected (2)' }).click();
    await page.getByText('Cancelled 2 job(s).').waitFor();
    for (const id of bulk)
      await page
        .locator(`tr[data-job-id="${id}"] .status`)
        .filter({ hasText: 'cancelled' })
        .waitFor();

    // The status filter asks the server.
    await page.getByLabel('Status').selectOption('succeeded');
    await page.locator('tr[data-job-id]').first().waitFor();
    const names = await page.locator('tr[data-job-id] td:nth-child(2)').allTextContents();
    expect(names.sort()).toEqual(['console-hello', 'console-sumo']);
    // So does the label selector (only the first job has team=web).
    await page.getByLabel('Labels').fill('team=web');
    await page.getByLabel('Labels').press('Enter');
    await page.locator('tr[data-job-id]').nth(1).waitFor({ state: 'detached' });
    expect(await page.locator('tr[data-job-id] td:nth-child(2)').allTextContents()).toEqual([
      'console-hello',
    ]);
    await expectAccessible('jobs');
  });

  it('shows usage, issues and revokes an API key, and manages a webhook', async () => {
    await page.getByRole('link', { name: 'Usage' }).click();
    await page.getByRole('heading', { name: 'Quota in use' }).waitFor();
    await page.getByTestId('stats').filter({ hasText: 'succeeded2' }).waitFor();
    await expectAccessible('usage');
    await shot('usage');

    await page.getByRole('link', { name: 'API keys' }).click();
    await page.getByLabel('Name of a new key').fill('ci');
    await page.getByLabel('Name of a new key').press('Enter');
    const issued = (await page.getByTestId('issued-key').textContent())?.trim() ?? '';
    expect(issued).toMatch(/^sk-/);
    expect((await call(h.url, 'GET', '/api/v1/tenants/me', undefined, issued)).status).toBe(200);
    await expectAccessible('api keys');
    await shot('keys');
    await page.getByRole('button', { name: /^Revoke key ci / }).click();
    await page
      .getByRole('row', { name: /^ci / })
      .getByText(/^revoked/)
      .waitFor();
    expect((await call(h.url, 'GET', '/api/v1/tenants/me', undefined, issued)).status).toBe(401);

    await page.getByRole('link', { name: 'Webhooks' }).click();
    // A bad URL is refused with the API's reason, and nothing is created.
    await page.getByLabel('Endpoint URL').fill('ftp://127.0.0.1/hook');
    await page.getByLabel('Description').fill('bad');
    await page.getByLabel('Description').press('Enter');
    await page.getByRole('alert').filter({ hasText: /url/ }).waitFor();
    expect(await h.prisma.webhookEndpoint.count()).toBe(0);

    await page.getByLabel('Endpoint URL').fill('http://127.0.0.1:9/roam');
    await page.getByLabel('Events (comma-separated; empty = all)').fill('job.succeeded');
    await page.getByLabel('Description').fill('console test');
    await page.getByRole('button', { name: 'Create webhook' }).click();
    expect((await page.getByTestId('secret').textContent())?.trim()).toMatch(/^whsec_/);
    await page.getByRole('button', { name: 'Test http://127.0.0.1:9/roam' }).click();
    await page.getByTestId('deliveries').locator('tbody tr').first().waitFor();
    await page.getByRole('button', { name: 'Pause http://127.0.0.1:9/roam' }).click();
    await page.getByRole('button', { name: 'Resume http://127.0.0.1:9/roam' }).waitFor();
    expect((await h.prisma.webhookEndpoint.findFirstOrThrow()).status).toBe('paused');
    await expectAccessible('webhooks');
    await shot('webhooks');
  });

  it('shows operators the tenants and the cluster, and previews a failover action before running it', async () => {
    // A job running on the pool, for the dry run to find.
    const running = await call(
      h.url,
      'POST',
      '/api/v1/jobs',
      { name: 'console-on-pool', image: 'busybox', command: ['sleep', '1000000'] },
      key,
    );
    await eventually(
      'the job to run',
      async () =>
        (await call(h.url, 'GET', `/api/v1/jobs/${running.body.id}`, undefined, key)).body
          .status === 'running',
    );
    await page.getByRole('button', { name: 'Sign out' }).click();
    expect(
      await page.evaluate<string | null>("sessionStorage.getItem('roam.console.key')"),
    ).toBeNull();
    await page.getByLabel('API key').fill(ADMIN_TOKEN);
    await page.getByLabel('API key').press('Enter');
    await page.getByRole('heading', { name: 'Tenants' }).waitFor();
    await page.getByRole('rowheader', { name: tenant }).waitFor();
    await expectAccessible('tenants');
    await shot('tenants');

    await page.getByRole('link', { name: 'Cluster' }).click();
    await page.getByRole('rowheader', { name: 'my-node-pool-0' }).waitFor();
    await page.getByLabel('Node pool').fill('my-node-pool');
    await page.getByLabel('Reason').fill('ECC errors on the slice');
    await page.getByLabel('Reason').press('Enter');
    const impact = page.getByTestId('impact');
    await impact.waitFor();
    expect(await impact.textContent()).toMatch(/cordon nodes.*4 node\(s\) of pool my-node-pool/);
    expect(await impact.textContent()).toContain('1 roam job(s) of 1 tenant(s): console-a');
    await impact.getByText(`${tenant}/console-on-pool (running)`).waitFor();
    await expectAccessible('cluster with a dry run');
    await shot('cluster');

    // The dry run changed nothing and is in the audit log.
    const nodes = await h.kube.list<{
      metadata?: { name?: string };
      spec?: { unschedulable?: boolean };
    }>('v1', 'Node');
    expect(nodes.items.some((node) => node.spec?.unschedulable)).toBe(false);
    const actions = await h.prisma.action.findMany();
    expect(actions.map((a) => [a.type, a.dryRun])).toEqual([['cordon_nodepool', true]]);

    // Confirmed, it runs for real.
    await page.getByRole('button', { name: 'Confirm and run' }).click();
    await page.getByText(/Action .* is succeeded\./).waitFor({ timeout: 30_000 });
    await eventually('the pool to be cordoned', async () => {
      const after = await h.kube.list<{
        metadata?: { name?: string };
        spec?: { unschedulable?: boolean };
      }>('v1', 'Node');
      return after.items
        .filter((node) => node.metadata?.name?.startsWith('my-node-pool-'))
        .every((node) => node.spec?.unschedulable === true);
    });
  });
});
