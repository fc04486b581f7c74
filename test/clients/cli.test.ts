// The `roam` CLI end to end: the real binary spawned as a process (as a user's shell runs it)
// against a running gateway, scheduler, reconciler, storage and failover worker. Every
// assertion reads what the process printed and the code it exited with.
import { execFile, spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { ZipFile } from 'yazl';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { KubernetesObject } from '@roam/kube';
import { eventually } from '@roam/testing';

import { ADMIN_TOKEN, register } from '../support/harness.js';
import { tenantReady } from '../support/jobs-api.js';
import { type ClientStack, startClientStack } from './stack.js';

const BIN = fileURLToPath(new URL('../../clients/cli/bin/roam.js', import.meta.url));
const PACK = fileURLToPath(new URL('../../clients/cli/scripts/pack.mjs', import.meta.url));
const CLI_PACKAGE = fileURLToPath(new URL('../../clients/cli/package.json', import.meta.url));
const ESC = '\u001b[';
/** This node first, so an installed `roam` (`#!/usr/bin/env node`) runs on it. */
const PATH = `${dirname(process.execPath)}:${process.env.PATH ?? ''}`;
/** Each test spawns the CLI a dozen times; on a busy machine a process start takes seconds. */
const SPAWNING = 180_000;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

describe('roam CLI', () => {
  let h: ClientStack;
  let dir: string;
  let key: string;
  /** The environment of a user who ran `roam login`: only the config dir, no ROAM_* variables. */
  let userEnv: Record<string, string>;

  /**
   * Runs `roam …` with pipes for stdin/stdout/stderr (not a terminal): the workspace's binary,
   * or `bin`, an installed one run through its `#!` line.
   */
  const roam = (
    args: string[],
    options: { env?: Record<string, string>; input?: string; bin?: string } = {},
  ) =>
    new Promise<Run>((resolve, reject) => {
      const [command, prefix] = options.bin ? [options.bin, []] : [process.execPath, [BIN]];
      const child = spawn(command, [...prefix, ...args], {
        env: { PATH, ...userEnv, ...options.env },
        cwd: dir,
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
      child.stdin.end(options.input ?? '');
    });

  const json = <T>(run: Run): T => {
    if (run.code !== 0) throw new Error(`roam exited ${run.code}: ${run.stderr}`);
    return JSON.parse(run.stdout) as T;
  };

  beforeAll(async () => {
    if (!existsSync(join(BIN, '../../dist/main.js')))
      throw new Error('clients/cli is not built: run `node scripts/build.mjs` first');
    h = await startClientStack('cli', { WEBHOOK_ALLOWED_HOSTS: '127.0.0.0/8' });
    dir = await mkdtemp(join(tmpdir(), 'roam-cli-'));
    userEnv = { XDG_CONFIG_HOME: join(dir, 'config'), HOME: dir };
    key = await register(h.url, 'cli-a', { max_concurrent_jobs: 10 });
    await tenantReady(h.prisma, 'cli-a');
  });
  afterAll(async () => {
    await h?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it(
    'logs in with a key piped on stdin, keeps it readable by the user alone, and says who',
    async () => {
      const login = await roam(['login', '--url', h.url], { input: `${key}\n` });
      expect(login).toMatchObject({ code: 0 });
      expect(login.stderr).toContain('as tenant cli-a');
      const file = join(dir, 'config', 'roam', 'config.json');
      expect((await stat(file)).mode & 0o777).toBe(0o600);
      expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({ url: h.url, apiKey: key });

      expect(json<{ tenant_id: string }>(await roam(['whoami', '-o', 'json'])).tenant_id).toBe(
        'cli-a',
      );
      // ROAM_API_KEY overrides the stored key: a wrong one is an auth failure, exit 3.
      const wrong = await roam(['whoami'], { env: { ROAM_API_KEY: 'sk-not-a-key' } });
      expect(wrong.code).toBe(3);
      expect(wrong.stderr).toMatch(/invalid API key/i);
      // A wrong key is refused at login, and nothing is stored over the good one.
      const refused = await roam(['login', '--url', h.url, '--api-key', 'sk-nope']);
      expect(refused.code).toBe(3);
      expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({ url: h.url, apiKey: key });
    },
    SPAWNING,
  );

  it(
    'submits from flags and, with --watch, streams the log and exits with the job exit code',
    async () => {
      const run = await roam([
        'submit',
        '--image',
        'busybox',
        '--cpu',
        '100m',
        '--memory',
        '64Mi',
        '--name',
        'exits-three',
        '-l',
        'suite=cli',
        '--watch',
        '--',
        'sh',
        '-c',
        'echo first; echo second; exit 3',
      ]);
      expect(run.code).toBe(3);
      expect(run.stdout).toMatch(/exits-three/);
      expect(run.stdout).toMatch(/first\nsecond\n$/);
      expect(run.stderr).toMatch(/failed/);
      // Not a terminal: no colour, no progress bar.
      expect(run.stdout + run.stderr).not.toContain(ESC);

      const ok = await roam(['submit', '--image', 'busybox', '-w', '-o', 'name', '--', 'true']);
      expect(ok.code).toBe(0);
      expect(ok.stdout.trim()).toMatch(/^[0-9a-f-]{36}$/);
    },
    SPAWNING,
  );

  it(
    'submits a YAML JobSpec with --inputs zipped and uploaded, then lists and downloads its results',
    async () => {
      const inputs = join(dir, 'inputs');
      await mkdir(join(inputs, 'nested'), { recursive: true });
      await writeFile(join(inputs, 'a.txt'), 'alpha\n');
      await writeFile(join(inputs, 'nested', 'b.txt'), 'beta\n');
      await writeFile(
        join(dir, 'job.yaml'),
        [
          'name: from-yaml',
          'image: busybox',
          'command: ["sh", "-c", "echo 42 > /roam/results/answer.txt; echo wrote"]',
          'resources: { cpu: 100m, memory: 64Mi }',
          'labels: { suite: cli, source: yaml }',
        ].join('\n'),
      );
      const submitted = await roam([
        'submit',
        '-f',
        'job.yaml',
        '--inputs',
        'inputs',
        '-w',
        '-o',
        'json',
      ]);
      expect(submitted.code).toBe(0);
      const job = JSON.parse(submitted.stdout.slice(0, submitted.stdout.lastIndexOf('}') + 1)) as {
        id: string;
        name: string;
      };
      expect(job.name).toBe('from-yaml');
      expect(submitted.stdout).toMatch(/wrote\n$/);
      const row = await h.prisma.job.findUniqueOrThrow({ where: { id: job.id } });
      expect(row.inputsKey).toBeTruthy();
      expect(Number(row.inputsBytes)).toBeGreaterThan(0);

      // Results are stored once the storage worker has collected them.
      const listed = await eventually('the results to be listed', async () => {
        const run = await roam(['results', 'ls', job.id, '-o', 'name']);
        return run.code === 0 && run.stdout.trim() ? run : undefined;
      });
      expect(listed.stdout.trim()).toBe('answer.txt');
      const one = await roam(['results', 'get', job.id, 'answer.txt', '-O', '-']);
      expect(one).toMatchObject({ code: 0, stdout: '42\n' });
      const all = await roam(['results', 'get', job.id, '-O', 'results.zip']);
      expect(all.code).toBe(0);
      const zip = await readFile(join(dir, 'results.zip'));
      expect(zip.subarray(0, 4).toString('binary')).toBe('PK\u0003\u0004');
      expect(zip.includes(Buffer.from('answer.txt'))).toBe(true);
      const unpacked = await roam(['results', 'get', job.id, '-d', 'unpacked']);
      expect(unpacked.code).toBe(0);
      expect(await readFile(join(dir, 'unpacked', 'answer.txt'), 'utf8')).toBe('42\n');
    },
    SPAWNING,
  );

  it(
    'installs from its packed tarball on its own, with no network, and runs against the stack',
    async () => {
      const run = promisify(execFile);
      const tarball = (await run(process.execPath, [PACK, join(dir, 'packed')])).stdout.trim();
      const { version } = JSON.parse(await readFile(CLI_PACKAGE, 'utf8')) as { version: string };
      expect(tarball).toBe(join(dir, 'packed', `roam-cli-${version}.tgz`));
      // --offline with an empty cache: the install can only succeed if it needs nothing fetched.
      const prefix = join(dir, 'prefix');
      await run(
        'npm',
        [
          'install',
          '--global',
          '--offline',
          '--no-audit',
          '--no-fund',
          '--cache',
          join(dir, 'npm-cache'),
          '--prefix',
          prefix,
          tarball,
        ],
        { env: { PATH, HOME: dir } },
      );
      // One bundled file and its manifest: no node_modules, no workspace link.
      expect((await readdir(join(prefix, 'lib', 'node_modules', '@roam', 'cli'))).sort()).toEqual([
        'package.json',
        'roam.js',
      ]);
      const bin = join(prefix, 'bin', 'roam');
      expect(await roam(['--version'], { bin })).toMatchObject({ code: 0, stdout: `${version}\n` });
      expect((await roam(['whoami', '-o', 'name'], { bin })).stdout.trim()).toBe('cli-a');
      const inputs = join(dir, 'installed-inputs');
      await mkdir(inputs, { recursive: true });
      await writeFile(join(inputs, 'data.txt'), 'from the installed cli\n');
      const submitted = await roam(
        ['submit', '--image', 'busybox', '--inputs', inputs, '-w', '-o', 'name', '--', 'true'],
        { bin },
      );
      expect(submitted.code).toBe(0);
      const row = await h.prisma.job.findUniqueOrThrow({
        where: { id: submitted.stdout.trim().split('\n')[0]! },
      });
      expect(Number(row.inputsBytes)).toBeGreaterThan(0);
    },
    SPAWNING,
  );

  it(
    'submits a batch from a JobSpec list and an array, follows each to its end, and exits 1 when an element failed',
    async () => {
      await writeFile(
        join(dir, 'batch.yaml'),
        [
          '- { image: busybox, command: [sh, -c, "echo one"] }',
          '- { image: busybox, command: [sh, -c, "echo two"] }',
          '- { image: busybox, command: [sh, -c, "exit 2"] }',
        ].join('\n'),
      );
      const batch = await roam([
        'submit',
        '-f',
        'batch.yaml',
        '-l',
        'suite=batch',
        '-w',
        '-o',
        'name',
      ]);
      expect(batch.code).toBe(1);
      expect(batch.stdout.trim().split('\n')).toHaveLength(3);
      // Not a terminal: a plain line each time the counts change, the last one the outcome.
      const [, group] = /^group (batch-[0-9a-f]{8}): /.exec(batch.stderr) ?? [];
      expect(group).toBeDefined();
      expect(batch.stderr).toMatch(
        /: 3\/3 finished \(pending 0 {2}running 0 {2}succeeded 2 {2}failed 1 {2}cancelled 0\)\n$/,
      );
      expect(batch.stderr).not.toContain(ESC);
      const summary = json<{ total: number; counts: { failed: number } }>(
        await roam(['groups', 'get', group!, '-o', 'json']),
      );
      expect(summary).toMatchObject({ total: 3, counts: { failed: 1 } });
      expect((await roam(['groups', 'ls', '-o', 'name'])).stdout.split('\n')).toContain(group);

      const array = await roam([
        'submit',
        '--image',
        'busybox',
        '--array',
        '4',
        '--parallelism',
        '2',
        '-w',
        '-o',
        'name',
        '--',
        'sh',
        '-c',
        'echo element $ROAM_ARRAY_INDEX',
      ]);
      expect(array.code).toBe(0);
      const id = array.stdout.trim();
      expect(array.stderr).toMatch(/: 4\/4 finished \(pending 0 {2}running 0 {2}succeeded 4 /);
      expect(
        json<{ size: number; done: boolean }>(await roam(['arrays', 'get', id, '-o', 'json'])),
      ).toMatchObject({ size: 4, done: true });
      expect(
        (await roam(['arrays', 'elements', id, '-o', 'name'])).stdout.trim().split('\n'),
      ).toHaveLength(4);
      expect((await roam(['arrays', 'watch', id])).code).toBe(0);
      // Flags that make no sense together are refused before anything is sent.
      expect((await roam(['submit', '-f', 'batch.yaml', '--inputs', 'inputs'])).code).toBe(2);
      expect((await roam(['submit', '--image', 'b', '--array', '0', '--', 'true'])).code).toBe(2);
    },
    SPAWNING,
  );

  it(
    "lists pipelines by state and shows one pipeline's steps",
    async () => {
      const submitted = await fetch(`${h.url}/api/v1/pipelines`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        body: JSON.stringify({
          name: 'cli-pipeline',
          steps: [
            { name: 'first', job: { image: 'busybox', command: ['true'] } },
            {
              name: 'then',
              job: { image: 'busybox', command: ['true'] },
              array: { size: 2 },
              depends_on: [{ step: 'first', on: 'succeeded' }],
            },
          ],
        }),
      });
      expect(submitted.status).toBe(201);
      const { id } = (await submitted.json()) as { id: string };
      // Credentials from the environment: this test does not rely on an earlier `roam login`.
      const as = (args: string[]) => roam(args, { env: { ROAM_URL: h.url, ROAM_API_KEY: key } });
      await eventually(
        'the pipeline succeeded',
        async () =>
          (await as(['pipelines', 'ls', '--state', 'succeeded', '-o', 'name'])).stdout
            .split('\n')
            .includes(id),
        { timeoutMs: 120_000, intervalMs: 1000 },
      );
      const listed = json<{ id: string; state: string; steps_total: number }[]>(
        await as(['pipelines', 'ls', '-o', 'json']),
      );
      expect(listed.find((p) => p.id === id)).toMatchObject({ state: 'succeeded', steps_total: 2 });
      expect(
        (await as(['pipelines', 'ls', '--state', 'running', '-o', 'name'])).stdout,
      ).not.toContain(id);
      const steps = await as(['pipelines', 'get', id]);
      expect(steps.code).toBe(0);
      expect(steps.stdout.split('\n')[0]).toMatch(/^STEP\s+KIND\s+ID\s+STATUS\s+PENDING/);
      expect(steps.stdout).toMatch(/then\s+array\s+\S+\s+succeeded\s+0\s+0\s+2\s+0\s+0/);
      expect(json<{ id: string }>(await as(['pipelines', 'get', id, '-o', 'json'])).id).toBe(id);
      expect((await as(['pipelines', 'ls', '--state', 'bogus'])).code).toBe(2);
      expect((await as(['pipelines', 'get', '01900000-0000-7000-8000-0000000000ff'])).code).toBe(4);
    },
    SPAWNING,
  );

  it(
    'unpacks results with -d but refuses entries escaping the directory, symlinks and oversize archives',
    async () => {
      const build = async (add: (zip: ZipFile) => void) => {
        const zip = new ZipFile();
        add(zip);
        zip.end();
        const chunks: Buffer[] = [];
        for await (const chunk of zip.outputStream) chunks.push(chunk as Buffer);
        return Buffer.concat(chunks);
      };
      // yazl refuses to write `..` itself: name the entry `aa/…` and rewrite both headers.
      const slip = await build((zip) => zip.addBuffer(Buffer.from('owned'), 'aa/escaped.txt'));
      const zips: Record<string, Buffer> = {
        slip: Buffer.from(slip.toString('binary').replaceAll('aa/escaped', '../escaped'), 'binary'),
        link: await build((zip) =>
          zip.addBuffer(Buffer.from('/etc/passwd'), 'link', { mode: 0o120777 }),
        ),
        big: await build((zip) => zip.addBuffer(Buffer.alloc(4096), 'zeros.bin')),
        fine: await build((zip) => zip.addBuffer(Buffer.from('ok'), 'sub/ok.txt')),
      };
      const api = createServer((request, response) => {
        const id = /^\/api\/v1\/jobs\/(\w+)\/results\.zip$/.exec(request.url ?? '')?.[1];
        const body = id ? zips[id] : undefined;
        if (!body) return void response.writeHead(404).end();
        response.writeHead(200, { 'content-type': 'application/zip' }).end(body);
      });
      await new Promise<void>((ready) => api.listen(0, '127.0.0.1', ready));
      const env = {
        ROAM_URL: `http://127.0.0.1:${(api.address() as AddressInfo).port}`,
        ROAM_API_KEY: 'roam_test',
      };
      try {
        const target = join(dir, 'guarded', 'inside');
        const slipped = await roam(['results', 'get', 'slip', '-d', target], { env });
        expect(slipped.code).toBe(1);
        expect(slipped.stderr).toContain('../escaped.txt');
        expect(existsSync(join(dir, 'guarded', 'escaped.txt'))).toBe(false);

        const linked = await roam(['results', 'get', 'link', '-d', target], { env });
        expect(linked.code).toBe(1);
        expect(linked.stderr).toContain('not a plain file');
        expect(existsSync(join(target, 'link'))).toBe(false);

        const big = await roam(['results', 'get', 'big', '-d', target, '--max-bytes', '1000'], {
          env,
        });
        expect(big.code).toBe(1);
        expect(big.stderr).toContain('more than 1000 bytes');

        const usage = await roam(['results', 'get', 'fine', 'x.txt', '-d', target], { env });
        expect(usage.code).toBe(2);

        const fine = await roam(['results', 'get', 'fine', '-d', target], { env });
        expect(fine.code).toBe(0);
        expect(await readFile(join(target, 'sub', 'ok.txt'), 'utf8')).toBe('ok');
        // Never overwrites what is already there.
        const again = await roam(['results', 'get', 'fine', '-d', target], { env });
        expect(again.code).toBe(1);
        expect(await readFile(join(target, 'sub', 'ok.txt'), 'utf8')).toBe('ok');
      } finally {
        await new Promise((closed) => api.close(closed));
      }
    },
    SPAWNING,
  );

  it(
    'lists, gets, describes and explains jobs, and prints their logs',
    async () => {
      const job = json<{ id: string }[]>(await roam(['ls', '-l', 'source=yaml', '-o', 'json']))[0]!;
      // ls with a label selector, in each output format.
      const names = await roam(['ls', '-l', 'source=yaml', '-o', 'name']);
      expect(names.stdout.trim()).toBe(job.id);
      const tableRun = await roam(['ls', '-l', 'suite=cli']);
      expect(tableRun.stdout.split('\n')[0]).toMatch(/^ID\s+NAME\s+STATUS\s+QUEUE\s+EXIT\s+AGE$/);
      expect(tableRun.stdout).toMatch(/exits-three\s+failed\s+\S+\s+3/);
      const yaml = await roam(['get', job.id, '-o', 'yaml']);
      expect(yaml.stdout).toMatch(new RegExp(`^id: ${job.id}$`, 'm'));
      expect(yaml.stdout).toMatch(/^status: succeeded$/m);

      const described = await roam(['describe', job.id]);
      expect(described.stdout).toMatch(/Status:\s+succeeded/);
      expect(described.stdout).toMatch(/Timeline:[\s\S]*Submitted[\s\S]*Running[\s\S]*Succeeded/);
      expect(described.stdout).toMatch(/Explain:\s+\S/);
      const explained = await roam(['explain', job.id, '-o', 'json']);
      expect(json<{ job_id: string; pending: boolean }>(explained)).toMatchObject({
        job_id: job.id,
        pending: false,
      });
      expect((await roam(['logs', job.id])).stdout).toBe('wrote\n');
      expect((await roam(['logs', job.id, '-f'])).stdout).toBe('wrote\n');
    },
    SPAWNING,
  );

  it(
    'cancels jobs, reads the event feed, and gives scripts exit codes they can rely on',
    async () => {
      const sleeper = await roam([
        'submit',
        '--image',
        'busybox',
        '-o',
        'name',
        '--',
        'sleep',
        '100000',
      ]);
      const id = sleeper.stdout.trim();
      const cancelled = await roam(['cancel', id, '-o', 'json']);
      expect(json<{ status: string }>(cancelled).status).toBe('cancelled');

      const events = await roam(['events', '-o', 'json']);
      expect(events.code).toBe(0);
      const feed = events.stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { type: string; event: { data: { jobId?: string } } });
      expect(feed.some((e) => e.type === 'job.cancelled' && e.event.data.jobId === id)).toBe(true);
      expect(feed.some((e) => e.type === 'job.succeeded')).toBe(true);

      // Not found 4, usage 2 (client side and server side), auth 3 (an admin route), unknown command 2.
      expect((await roam(['get', '0190f0a0-0000-7000-8000-000000000000'])).code).toBe(4);
      const noCommand = await roam(['submit', '--image', 'busybox']);
      expect(noCommand.code).toBe(2);
      expect(noCommand.stderr).toMatch(/needs --image and a command/);
      const invalid = await roam(['submit', '--image', 'busybox', '--cpu', 'lots', '--', 'true']);
      expect(invalid.code).toBe(2);
      expect(invalid.stderr).toMatch(/resources/);
      expect((await roam(['tenants', 'ls'])).code).toBe(3);
      const badFormat = await roam(['ls', '-o', 'xml']);
      expect(badFormat.code).toBe(2);
      expect(badFormat.stderr).toMatch(/Allowed choices are table, json, yaml, name/);
      // Without a login or ROAM_URL there is nowhere to go: exit 3 and what to do about it.
      const nowhere = await roam(['ls'], { env: { XDG_CONFIG_HOME: join(dir, 'empty') } });
      expect(nowhere.code).toBe(3);
      expect(nowhere.stderr).toMatch(/roam login/);
    },
    SPAWNING,
  );

  it(
    'follows the event feed live with events -f until interrupted',
    async () => {
      // From position 0, so the job's event is replayed if it lands before the stream opens.
      const child = spawn(
        process.execPath,
        [BIN, 'events', '-f', '--type', 'job.succeeded', '--after', '0', '-o', 'json'],
        { env: { PATH, ...userEnv }, cwd: dir },
      );
      let stdout = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
      const id = (
        await roam(['submit', '--image', 'busybox', '-o', 'name', '--', 'true'])
      ).stdout.trim();
      const line = await eventually('the job.succeeded event on the live feed', () =>
        stdout.split('\n').find((text) => text.includes(`jobs/${id}`)),
      );
      expect(JSON.parse(line)).toMatchObject({
        type: 'job.succeeded',
        event: { type: 'roam.evt.v1.job.succeeded', subject: `jobs/${id}` },
      });
      child.kill('SIGINT');
      expect(await exited).toBe(0);
    },
    SPAWNING,
  );

  it(
    'manages tenants, keys and webhooks',
    async () => {
      const admin = { ROAM_API_KEY: ADMIN_TOKEN };
      const created = await roam(
        ['tenants', 'create', 'cli-b', '--max-cpu', '2', '--max-jobs', '1'],
        {
          env: admin,
        },
      );
      expect(created.code).toBe(0);
      const bKey = created.stdout.trim();
      expect(bKey).toMatch(/^sk-/);
      const b = { ROAM_API_KEY: bKey };
      expect(
        json<{ max_cpu: number }>(await roam(['tenants', 'get', '-o', 'json'], { env: b })).max_cpu,
      ).toBe(2);
      expect((await roam(['tenants', 'create', 'cli-b'], { env: admin })).code).toBe(5);

      const second = await roam(['keys', 'create', 'ci'], { env: b });
      expect(second.code).toBe(0);
      const ciKey = second.stdout.trim();
      expect(
        (await roam(['whoami', '-o', 'name'], { env: { ROAM_API_KEY: ciKey } })).stdout.trim(),
      ).toBe('cli-b');
      const keys = json<{ id: string; name: string }[]>(
        await roam(['keys', 'ls', '-o', 'json'], { env: b }),
      );
      const ci = keys.find((k) => k.name === 'ci')!;
      expect((await roam(['keys', 'revoke', ci.id], { env: b })).code).toBe(0);
      expect((await roam(['whoami'], { env: { ROAM_API_KEY: ciKey } })).code).toBe(3);

      const hook = await roam(
        ['webhooks', 'create', 'http://127.0.0.1:9/hook', '--event', 'job.succeeded', 'job.failed'],
        { env: b },
      );
      expect(hook.code).toBe(0);
      expect(hook.stdout.trim()).toMatch(/^whsec_/);
      const hooks = json<{ id: string; events: string[] }[]>(
        await roam(['webhooks', 'ls', '-o', 'json'], { env: b }),
      );
      expect(hooks).toHaveLength(1);
      expect(hooks[0]!.events).toEqual(['job.succeeded', 'job.failed']);
      expect((await roam(['webhooks', 'rm', hooks[0]!.id], { env: b })).code).toBe(0);
      const refused = await roam(['webhooks', 'create', 'not a url'], { env: b });
      expect(refused.code).toBe(2);
    },
    SPAWNING,
  );

  it(
    'shows an admin action impact table on --dry-run and runs it only when confirmed',
    async () => {
      const admin = { ROAM_API_KEY: ADMIN_TOKEN };
      const running = await roam([
        'submit',
        '--image',
        'busybox',
        '-o',
        'name',
        '--',
        'sleep',
        '100000',
      ]);
      const id = running.stdout.trim();
      await eventually('the job to run', async () => {
        const job = json<{ status: string }>(await roam(['get', id, '-o', 'json']));
        return job.status === 'running';
      });
      const args = [
        'actions',
        'run',
        'cordon_nodepool',
        '--pool',
        'cpu-pool',
        '--reason',
        'cli test',
      ];
      // No terminal to confirm on and no --yes: the plan is shown, nothing is run.
      const dry = await roam([...args, '--dry-run'], { env: admin });
      expect(dry.code).toBe(1);
      expect(dry.stderr).toMatch(/not confirmed.*--yes/);
      expect(dry.stdout).toMatch(/NODE\s+STATUS\s+CORDONED\s+PODS\s+ROAM JOBS/);
      expect(dry.stdout).toContain(`cli-a/${id}`);
      const nodes = async () =>
        (
          await h.kube.list<KubernetesObject & { spec?: { unschedulable?: boolean } }>(
            'v1',
            'Node',
            {
              labelSelector: 'cloud.google.com/gke-nodepool=cpu-pool',
            },
          )
        ).items;
      expect((await nodes()).some((n) => n.spec?.unschedulable)).toBe(false);

      const done = await roam([...args, '--dry-run', '--yes'], { env: admin });
      expect(done.code).toBe(0);
      expect(done.stdout).toMatch(
        /dry run[\s\S]*cordon_nodepool\)\nPool:\s+cpu-pool\s+State: succeeded/,
      );
      expect((await nodes()).every((n) => n.spec?.unschedulable === true)).toBe(true);
      const audit = await roam(['actions', 'ls', '-o', 'json'], { env: admin });
      expect(json<{ dry_run: boolean }[]>(audit).map((a) => a.dry_run)).toEqual([
        false,
        true,
        true,
      ]);

      expect(
        (
          await roam(
            ['actions', 'run', 'uncordon_nodepool', '--pool', 'cpu-pool', '--reason', 'done', '-y'],
            { env: admin },
          )
        ).code,
      ).toBe(0);
      expect(
        (await roam(['actions', 'run', 'explode', '--pool', 'p', '--reason', 'r'], { env: admin }))
          .code,
      ).toBe(2);
      // A tenant's key is refused: exit 3.
      expect((await roam([...args, '--yes'])).code).toBe(3);
      await roam(['cancel', id]);
    },
    SPAWNING,
  );

  it(
    'draws progress and colour only in a terminal',
    async () => {
      const inputs = join(dir, 'big');
      await mkdir(inputs, { recursive: true });
      await writeFile(join(inputs, 'data.bin'), Buffer.alloc(512 * 1024, 7));
      // util-linux `script` gives the process a pseudo-terminal; -e passes its exit code on.
      const command = `${process.execPath} ${BIN} submit --image busybox --inputs big -- true`;
      const { stdout } = await promisify(execFile)(
        'script',
        ['-q', '-e', '-c', command, '/dev/null'],
        {
          cwd: dir,
          env: { PATH, ...userEnv, TERM: 'xterm' },
        },
      );
      expect(stdout).toMatch(/upload \[[=-]+\] 100% \| \d+\/\d+ bytes/);
      expect(stdout).toContain(`${ESC}33mpending${ESC}0m`);
      // NO_COLOR turns colour off in a terminal too.
      const plain = await promisify(execFile)(
        'script',
        ['-q', '-e', '-c', `${process.execPath} ${BIN} ls -l suite=cli`, '/dev/null'],
        { cwd: dir, env: { PATH, ...userEnv, NO_COLOR: '1' } },
      );
      expect(plain.stdout).toMatch(/failed/);
      expect(plain.stdout).not.toContain(`${ESC}31m`);

      // An array followed in a terminal: a live bar of finished elements with the count per
      // phase, and exit 1 because element 1 failed (`script -e` passes the code on).
      const array = `${process.execPath} ${BIN} submit --image busybox --array 3 --watch -o name -- sh -c 'test $ROAM_ARRAY_INDEX != 1'`;
      const failed = await promisify(execFile)('script', ['-q', '-e', '-c', array, '/dev/null'], {
        cwd: dir,
        env: { PATH, ...userEnv, TERM: 'xterm' },
      }).then(
        () => undefined,
        (error: { code: number; stdout: string }) => error,
      );
      expect(failed?.code).toBe(1);
      expect(failed?.stdout).toMatch(
        /array job-[0-9a-f]+ \[[=-]+\] 3\/3 finished \| pending 0 {2}running 0 {2}succeeded 2 {2}failed 1 {2}cancelled 0/,
      );
    },
    SPAWNING,
  );

  it(
    'prints a bash completion script that completes subcommands and flags',
    async () => {
      const script = await roam(['completion', 'bash']);
      expect(script.code).toBe(0);
      await writeFile(join(dir, 'roam.bash'), script.stdout);
      const complete = async (...words: string[]) => {
        const { stdout } = await promisify(execFile)(
          'bash',
          [
            '-c',
            `source roam.bash; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _roam_complete; echo "\${COMPREPLY[@]}"`,
          ],
          { cwd: dir },
        );
        return stdout.trim().split(' ');
      };
      expect(await complete('roam', 'res')).toEqual(['results']);
      expect((await complete('roam', 'results', '')).sort()).toEqual(['get', 'ls']);
      expect(await complete('roam', 'submit', '--wa')).toEqual(['--watch']);
    },
    SPAWNING,
  );
});
