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
    // The alert region is always on the page (empty until an error), so wait for its text.
    await page.getByRole('alert').filter({ hasText: /401/ }).waitFor();

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
    // 2,000 simulated seconds: about 10 real ones at the simulator's speed, time enough to see it run.
    await page
      .getByLabel('Command (run with sh -c)')
      .fill('echo hello from the console; sleep 2000; echo goodbye');
    await page.getByLabel('Command (run with sh -c)').press('Enter');

    await page.getByRole('heading', { name: /Job console-hello/ }).waitFor();
    const id = jobId();
    const status = page.getByTestId('job-status');
    // The page never polls the job: the change comes over the event feed.
    await status.filter({ hasText: 'running' }).waitFor();
    await page.getByTestId('log').filter({ hasText: 'hello from the console' }).waitFor();
    await page
      .getByTestId('job-status')
      .filter({ hasText: 'succeeded' })
      .waitFor({ timeout: 30_000 });
    await page.getByTestId('log').filter({ hasText: 'goodbye' }).waitFor();
    await page.getByTestId('timeline').filter({ hasText: 'Succeeded' }).waitFor();

    // Search narrows the log to the matching lines.
    await page.getByLabel('Search the log').fill('goodbye');
    await page
      .getByTestId('log')
      .filter({ hasText: /^\s*goodbye\s*$/ })
      .waitFor();
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
    // The table empties while the new page loads: wait for the answer, not for a row to go.
    await eventually('only the team=web job listed', async () => {
      const listed = await page.locator('tr[data-job-id] td:nth-child(2)').allTextContents();
      return listed.length === 1 && listed[0] === 'console-hello' ? true : undefined;
    });
    await expectAccessible('jobs');
  });

  it('scrolls hundreds of jobs by keyboard, fetching server pages as it goes, and shows an array and its group', async () => {
    // 450 elements, at most one admitted at a time, then all cancelled: they stay in the list.
    const array = await call(
      h.url,
      'POST',
      '/api/v1/arrays',
      {
        name: 'console-sweep',
        image: 'busybox',
        command: ['sleep', '1000000'],
        group: 'console-sweep',
        array: { size: 450, parallelism: 1 },
      },
      key,
    );
    expect(array.status).toBe(201);
    const arrayId = array.body.id as string;
    await call(h.url, 'DELETE', `/api/v1/arrays/${arrayId}`, undefined, key);
    await eventually(
      'the array to be cancelled',
      async () =>
        (await call(h.url, 'GET', `/api/v1/arrays/${arrayId}`, undefined, key)).body.done === true,
    );

    await page.getByRole('button', { name: 'Clear' }).click();
    const loaded = page.getByTestId('loaded');
    await loaded.filter({ hasText: /^200 job\(s\) loaded, more as you scroll$/ }).waitFor();
    // Only the rows in view are in the page, whatever has been loaded.
    expect(await page.locator('tr[data-job-id]').count()).toBeLessThan(60);
    // Keyboard: the table's region takes focus and End scrolls it; each end fetches a page.
    const region = page.getByRole('region', { name: 'Jobs, scrollable' });
    await region.focus();
    await region.press('End');
    await loaded.filter({ hasText: /^400 job\(s\) loaded/ }).waitFor();
    await region.press('End');
    await loaded.filter({ hasText: /^45\d job\(s\) loaded$/ }).waitFor();
    expect(await page.locator('tr[data-job-id]').count()).toBeLessThan(60);
    // The oldest job is at the bottom.
    await region.press('End');
    await page.locator('tr[data-job-id]').filter({ hasText: 'console-hello' }).waitFor();

    // The group and time filters ask the server too.
    await page.getByLabel('Group').fill('console-sweep');
    await page.getByLabel('Submitted from').fill('2099-01-01T00:00');
    await page.getByLabel('Group').press('Enter');
    await page.getByText('No jobs match.').waitFor();
    await page.getByLabel('Submitted from').fill('');
    await page.getByLabel('Group').press('Enter');
    await loaded.filter({ hasText: /^200 job\(s\) loaded, more/ }).waitFor();
    await expectAccessible('jobs, scrolled and filtered');

    // From an element to its array: progress per phase, then the elements listed by array.
    await page.locator('tr[data-job-id] a[href*="/arrays/"]').first().click();
    await page.getByRole('heading', { name: 'Array console-sweep' }).waitFor();
    await page.getByTestId('array-summary').filter({ hasText: '450' }).waitFor();
    await page
      .getByLabel('Array console-sweep: jobs per phase')
      .getByText('cancelled 450')
      .waitFor();
    await expectAccessible('array');
    await shot('array');
    await page.getByRole('link', { name: "The array's elements" }).click();
    await page.waitForFunction(`document.getElementById('array-filter')?.value === '${arrayId}'`);
    await loaded.filter({ hasText: /^200 job\(s\) loaded, more/ }).waitFor();
    expect(await page.locator('tr[data-job-id] td:nth-child(2)').first().textContent()).toMatch(
      /^console-sweep-\d+$/,
    );
    await page.getByRole('link', { name: 'console-sweep', exact: true }).first().click();
    await page.getByRole('heading', { name: 'Group console-sweep' }).waitFor();
    await page.getByTestId('group-summary').filter({ hasText: '450' }).waitFor();

    await page.getByRole('link', { name: 'Groups', exact: true }).click();
    await page.getByRole('heading', { name: 'Groups', exact: true }).waitFor();
    await page.locator('[data-group="console-sweep"] progress').waitFor();
    await expectAccessible('groups');
    await shot('groups');

    // The tenant's arrays, each linked to its page.
    await page.getByRole('link', { name: 'Arrays', exact: true }).click();
    await page.getByRole('heading', { name: 'Arrays', exact: true }).waitFor();
    await page.locator(`[data-array="${arrayId}"] progress`).waitFor();
    await expectAccessible('arrays');
    await shot('arrays');
    await page
      .locator(`[data-array="${arrayId}"]`)
      .getByRole('link', { name: 'console-sweep' })
      .click();
    await page.getByRole('heading', { name: 'Array console-sweep' }).waitFor();
  }, 120_000);

  it('shows usage, issues and revokes an API key, and manages a webhook', async () => {
    await page.getByRole('link', { name: 'Usage' }).click();
    await page.getByRole('heading', { name: 'Quota in use' }).waitFor();
    await page.getByTestId('stats').filter({ hasText: 'succeeded2' }).waitFor();
    await page
      .getByTestId('fair-share')
      .filter({ hasText: /of the cluster/ })
      .waitFor();
    await page.getByTestId('cpu-chart').locator('canvas').waitFor();
    await page.getByTestId('jobs-chart').getByText('Show the data').click();
    await page.getByRole('region', { name: 'Jobs running and waiting: data' }).waitFor();
    await page.getByTestId('spend-chart').getByText('Show the data').click();
    await page
      .getByRole('region', { name: 'Offload spend against your budget: data' })
      .getByRole('columnheader', { name: /Offload spend/ })
      .waitFor();
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

  it('creates, edits and deletes a template, and shows the webhook deliveries of a job', async () => {
    await page.getByRole('link', { name: 'Templates' }).click();
    await page.getByRole('rowheader', { name: 'sumo' }).waitFor();
    await page.getByRole('button', { name: 'New template' }).click();
    await page.getByLabel('Name').fill('console-tpl');
    // The API's reason for a bad spec is shown, and nothing is created.
    await page.getByLabel('Spec (JSON)').fill('{"image": "", "command": ["true"]}');
    await page.getByRole('button', { name: 'Create template' }).click();
    await page.getByRole('alert').filter({ hasText: /image/ }).waitFor();
    expect(await h.prisma.jobTemplate.count({ where: { name: 'console-tpl' } })).toBe(0);
    await page
      .getByLabel('Spec (JSON)')
      .fill('{"image": "busybox", "command": ["echo", "from a template"]}');
    await page.getByRole('button', { name: 'Create template' }).click();
    await page.getByText('Created console-tpl.').waitFor();
    await page.getByRole('button', { name: 'Edit template console-tpl' }).click();
    await page
      .getByLabel('Spec (JSON)')
      .fill('{"image": "alpine", "command": ["echo", "from a template"]}');
    await page.getByRole('button', { name: 'Save template' }).click();
    await page.getByRole('row', { name: /console-tpl alpine/ }).waitFor();
    await expectAccessible('templates');
    await shot('templates');
    await page.getByRole('button', { name: 'Delete template console-tpl' }).click();
    await page.getByRole('rowheader', { name: 'console-tpl' }).waitFor({ state: 'detached' });

    // A delivery of console-hello's success, as the notifier's fan-out writes it.
    const hello = await h.prisma.job.findFirstOrThrow({ where: { name: 'console-hello' } });
    const endpoint = await h.prisma.webhookEndpoint.findFirstOrThrow();
    const eventId = '01900000-0000-7000-8000-0000000000e1';
    await h.prisma.webhookDelivery.create({
      data: {
        id: '01900000-0000-7000-8000-0000000000d1',
        endpointId: endpoint.id,
        tenantId: tenant,
        eventId,
        eventType: 'roam.evt.v1.job.succeeded',
        status: 'succeeded',
        attempts: 1,
        payload: {
          specversion: '1.0',
          id: eventId,
          type: 'roam.evt.v1.job.succeeded',
          source: 'roam',
          subject: `jobs/${hello.id}`,
          time: new Date().toISOString(),
          data: {},
        },
      },
    });
    await page.goto(`${h.url}/console/jobs/${hello.id}`);
    await page
      .getByTestId('job-deliveries')
      .getByRole('cell', { name: 'roam.evt.v1.job.succeeded' })
      .waitFor();
    await expectAccessible('job with deliveries');
  });

  it('shows operators the tenants, the queue, offloads and the cluster, and previews a failover action before running it', async () => {
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
    // Limits: the browser refuses what the API would (0 concurrent jobs), by keyboard too.
    await page.getByRole('button', { name: `Edit limits of ${tenant}` }).click();
    const concurrent = page.getByLabel('Concurrent jobs');
    await concurrent.fill('0');
    await concurrent.press('Enter');
    await page.locator('#limit-max_concurrent_jobs:invalid').waitFor();
    expect(
      (await h.prisma.tenant.findUniqueOrThrow({ where: { id: tenant } })).maxConcurrentJobs,
    ).toBe(8);
    await concurrent.fill('6');
    await concurrent.press('Enter');
    await page.getByRole('heading', { name: `Limits of ${tenant}` }).waitFor({ state: 'detached' });
    expect(
      (await h.prisma.tenant.findUniqueOrThrow({ where: { id: tenant } })).maxConcurrentJobs,
    ).toBe(6);
    // Usage bars: what the tenant's jobs hold against each limit, the new limit included.
    const runningBar = page.locator(
      `meter[aria-label="Running jobs in use by ${tenant}"][max="6"]`,
    );
    await runningBar.waitFor();
    expect(Number(await runningBar.getAttribute('value'))).toBeGreaterThanOrEqual(1);
    for (const what of ['CPU', 'Memory', 'GPUs'])
      await page.locator(`meter[aria-label="${what} in use by ${tenant}"]`).waitFor();
    await expectAccessible('tenants');
    await shot('tenants');

    // The queue: nothing of console-a waits (its jobs run or were cancelled), one admission at least.
    await page.getByRole('link', { name: 'Queue' }).click();
    await page.getByRole('heading', { name: 'Queue' }).waitFor();
    await page.getByTestId('admitted-chart').locator('canvas').waitFor();
    await page.getByTestId('oldest-waiting').waitFor();
    await expectAccessible('queue');
    await shot('queue');

    // Offload: pods the offload worker would have written, read back as pods, prices and spend.
    await h.prisma.tenant.update({
      where: { id: tenant },
      data: { offloadBudgetMicros: 20_000_000n, offloadSpendMicros: 4_600_000n },
    });
    await h.prisma.offload.create({
      data: {
        id: '01900000-0000-7000-8000-000000000001',
        tenantId: tenant,
        kubeNamespace: `roam-${tenant}`,
        kubeJobName: 'console-gpu',
        runpodPodId: 'pod-console-1',
        gpuType: 'NVIDIA RTX A4000',
        dataCenter: 'EU-RO-1',
        pricePerHourMicros: 190_000n,
        state: 'running',
      },
    });
    await page.getByRole('link', { name: 'Offload' }).click();
    await page.getByRole('rowheader', { name: 'pod-console-1' }).waitFor();
    await page.getByTestId('spend').getByText('$4.60').waitFor();
    await page.getByTestId('prices').getByText('$0.19').first().waitFor();
    await expectAccessible('offload');
    await shot('offload');

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
