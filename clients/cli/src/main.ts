import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { Readable, Transform } from 'node:stream';
import { type ReadableStream as WebReadableStream } from 'node:stream/web';
import { pipeline } from 'node:stream/promises';

import {
  type ArraySubmission,
  type Event,
  isTerminal,
  type Job,
  type JobSpecInput,
  type JobSubmission,
  RoamClient,
  RoamError,
  type Schemas,
} from '@roam/client';
import { Command, CommanderError, Option } from 'commander';
import { parse } from 'yaml';

import {
  allSucceeded,
  arrayCounts,
  arrayView,
  batchView,
  groupCounts,
  groupView,
  pipelineStepView,
  pipelineView,
  watchCounts,
} from './batches.js';
import { completionScript } from './completion.js';
import { configFile, loadCredentials, saveCredentials } from './config.js';
import {
  age,
  colourStatus,
  type Format,
  FORMATS,
  type Printable,
  render,
  table,
} from './output.js';
import { type PhaseCounts, progressBar } from './progress.js';
import { DEFAULT_UNPACK_LIMIT, unpackZip } from './unzip.js';
import { zipDirectory } from './zip.js';

/** Exit codes scripts can rely on (docs/cli.md). */
export const EXIT = { ok: 0, error: 1, usage: 2, auth: 3, notFound: 4, conflict: 5 } as const;

class ExitError extends Error {
  constructor(
    message: string,
    readonly code: number,
  ) {
    super(message);
  }
}

const out = (text: string) => {
  if (text) process.stdout.write(`${text}\n`);
};
const note = (text: string) => process.stderr.write(`${text}\n`);

async function client(): Promise<RoamClient> {
  const { url, apiKey } = await loadCredentials();
  if (!url) throw new ExitError('not logged in: run `roam login` or set ROAM_URL', EXIT.auth);
  return new RoamClient({ baseUrl: url, ...(apiKey ? { apiKey } : {}) });
}

const format = (options: { output?: string }): Format => (options.output ?? 'table') as Format;
const outputOption = () =>
  new Option('-o, --output <format>', 'output format').choices(FORMATS).default('table');

const jobView: Printable<Job> = {
  headers: ['ID', 'NAME', 'STATUS', 'QUEUE', 'EXIT', 'AGE'],
  row: (job) => [
    job.id,
    job.name,
    colourStatus(job.status),
    job.queue,
    job.exit_code === null || job.exit_code === undefined ? '-' : String(job.exit_code),
    age(job.created_at),
  ],
  name: (job) => job.id,
};

/** Reads `-f file` (YAML or JSON; `-` is stdin): one JobSpec, or a list of them (a batch). */
async function readSpecFile(file: string): Promise<Record<string, unknown>> {
  const text =
    file === '-'
      ? await new Response(Readable.toWeb(process.stdin) as ReadableStream).text()
      : await readFile(file, 'utf8');
  const parsed = (parse(text) ?? {}) as unknown;
  // A list, or `{jobs: [...]}` as `POST /api/v1/jobs:batch` takes it, is a batch.
  return (Array.isArray(parsed) ? { jobs: parsed } : parsed) as Record<string, unknown>;
}

const whole = (value: unknown, flag: string): number => {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1)
    throw new ExitError(
      `${flag} takes a positive whole number, got "${String(value)}"`,
      EXIT.usage,
    );
  return n;
};

/** A JobSpec from a file's fields (if any) with the flags applied over them. */
function buildSpec(
  base: Record<string, unknown>,
  options: Record<string, unknown>,
  command: string[],
): Record<string, unknown> {
  const spec = { ...base };
  if (options.image) spec.image = options.image;
  if (command.length > 0) spec.command = command;
  if (options.name) spec.name = options.name;
  if (options.queue) spec.queue = options.queue;
  if (options.group) spec.group = options.group;
  if (options.priority !== undefined) spec.priority = Number(options.priority);
  const resources = { ...(spec.resources as Record<string, string | number> | undefined) };
  if (options.cpu) resources.cpu = options.cpu as string;
  if (options.memory) resources.memory = options.memory as string;
  if (options.gpu) resources.gpu = Number(options.gpu);
  if (Object.keys(resources).length > 0) spec.resources = resources;
  const pairs = (list: unknown) =>
    Object.fromEntries(
      ((list as string[] | undefined) ?? []).map((pair) => {
        const at = pair.indexOf('=');
        if (at < 1) throw new ExitError(`expected KEY=VALUE, got "${pair}"`, EXIT.usage);
        return [pair.slice(0, at), pair.slice(at + 1)];
      }),
    );
  if (options.env) spec.env = { ...(spec.env as object), ...pairs(options.env) };
  if (options.label) spec.labels = { ...(spec.labels as object), ...pairs(options.label) };
  if (options.array !== undefined || options.parallelism !== undefined) {
    const array = { ...(spec.array as Record<string, unknown> | undefined) };
    if (options.array !== undefined) array.size = whole(options.array, '--array');
    if (options.parallelism !== undefined)
      array.parallelism = whole(options.parallelism, '--parallelism');
    spec.array = array;
  }
  if (!spec.template && (!spec.image || !spec.command))
    throw new ExitError('a job needs --image and a command (after --), or -f job.yaml', EXIT.usage);
  return spec;
}

/** `--watch` on many jobs: 0 when every one succeeded, 1 when any failed or was cancelled. */
const batchExitCode = (counts: PhaseCounts): number =>
  allSucceeded(counts) ? EXIT.ok : EXIT.error;

/** Submits a batch; with `--watch`, follows it as one group (named for it when it has none). */
async function submitBatch(
  roam: RoamClient,
  specs: Record<string, unknown>[],
  options: Record<string, unknown>,
): Promise<void> {
  const groups = new Set(specs.map((spec) => spec.group));
  if (options.watch && (groups.size !== 1 || groups.has(undefined))) {
    if (groups.size !== 1)
      throw new ExitError(
        '--watch follows a batch as one group: give all its jobs one group (--group NAME)',
        EXIT.usage,
      );
    const group = `batch-${randomBytes(4).toString('hex')}`;
    for (const spec of specs) spec.group = group;
  }
  const submitted = await roam.submitBatch(specs as JobSpecInput[], idempotency(options));
  out(render(format(options), submitted.items, batchView));
  if (!options.watch) return;
  const group = specs[0]!.group as string;
  const end = await watchCounts(`group ${group}`, () => roam.getGroup(group), groupCounts);
  process.exitCode = batchExitCode(groupCounts(end));
}

/** Submits an array; with `--watch`, follows it to its end. */
async function submitArray(
  roam: RoamClient,
  spec: Record<string, unknown>,
  options: Record<string, unknown>,
): Promise<void> {
  const array = await roam.submitArray(spec as ArraySubmission, idempotency(options));
  out(render(format(options), [array], arrayView, true));
  if (!options.watch) return;
  const end = await watchCounts(`array ${array.name}`, () => roam.getArray(array.id), arrayCounts);
  process.exitCode = batchExitCode(arrayCounts(end));
}

const idempotency = (options: Record<string, unknown>) =>
  options.idempotencyKey ? { idempotencyKey: options.idempotencyKey as string } : {};

/** Follows a job until it ends, printing each status change on stderr; returns the end state. */
async function watchJob(roam: RoamClient, id: string, logs: boolean): Promise<Job> {
  let last = '';
  let streamed = false;
  for (;;) {
    const job = await roam.getJob(id);
    if (job.status !== last) {
      note(`${job.id} ${colourStatus(job.status)}${job.reason ? ` (${job.reason})` : ''}`);
      last = job.status;
    }
    if (logs && !streamed && job.status !== 'pending') {
      streamed = true;
      try {
        for await (const line of roam.followLogs(id)) out(line);
      } catch (error) {
        if (!(error instanceof RoamError && error.status === 409)) throw error;
        streamed = false;
      }
    }
    if (isTerminal(job.status)) return job;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** A job's end as a process exit code: its own code, else 1 when it failed, 130 when cancelled. */
const jobExitCode = (job: Job): number =>
  job.status === 'succeeded'
    ? 0
    : typeof job.exit_code === 'number' && job.exit_code !== 0
      ? job.exit_code
      : job.status === 'cancelled'
        ? 130
        : 1;

async function confirm(question: string): Promise<boolean> {
  if (!process.stdin.isTTY) return false;
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
  } finally {
    rl.close();
  }
}

const tenantView: Printable<Schemas['Tenant']> = {
  headers: ['TENANT', 'STATUS', 'NAMESPACE', 'MAX CPU', 'MAX MEM GI', 'MAX JOBS', 'AGE'],
  row: (t) => [
    t.tenant_id,
    t.status,
    t.namespace,
    String(t.max_cpu),
    String(t.max_memory_gi),
    String(t.max_concurrent_jobs),
    age(t.created_at),
  ],
  name: (t) => t.tenant_id,
};

const webhookView: Printable<Pick<Schemas['Webhook'], 'id' | 'url' | 'status' | 'events'>> = {
  headers: ['ID', 'URL', 'STATUS', 'EVENTS'],
  row: (w) => [w.id, w.url, w.status, w.events.join(',') || '*'],
  name: (w) => w.id,
};

const ACTION_TYPES = [
  'cordon_nodepool',
  'cordon_nodepool_and_restart_jobset',
  'cordon_and_repair_nodepool',
  'repair_nodepool',
  'uncordon_nodepool',
] as const;

type ActionView = Schemas['ActionView'];

const actionView: Printable<ActionView> = {
  headers: ['ID', 'TYPE', 'POOL', 'STATE', 'DRY RUN', 'REQUESTOR'],
  row: (a) => [a.id, a.type, a.node_pool ?? '-', a.state, a.dry_run ? 'yes' : 'no', a.requestor],
  name: (a) => a.id,
};

/** The part of a failover plan the impact table shows (the plan is the worker's, untyped). */
interface PlanView {
  nodes?: { name: string; ready: boolean; unschedulable: boolean }[];
  pods?: { namespace: string; name: string; node: string }[];
  roamJobs?: { jobId: string; tenantId: string; node: string }[];
  jobset?: { namespace: string; name: string; leaderPod?: { name: string } };
  instance?: { node: string; name?: string };
  steps?: { name: string }[];
}

/** An action with its impact: one row per node it changes, with the pods and roam jobs on it. */
function describeAction(action: ActionView): string {
  const plan = (action.plan ?? {}) as PlanView;
  const lines = [
    `Action:   ${action.id} (${action.type}${action.dry_run ? ', dry run' : ''})`,
    `Pool:     ${action.node_pool ?? '-'}   State: ${action.state}${action.error ? `   Error: ${action.error}` : ''}`,
  ];
  if (plan.steps) lines.push(`Steps:    ${plan.steps.map((step) => step.name).join(' → ') || '-'}`);
  if (plan.jobset)
    lines.push(
      `JobSet:   ${plan.jobset.namespace}/${plan.jobset.name} (leader pod ${plan.jobset.leaderPod?.name ?? '-'} deleted)`,
    );
  if (plan.instance)
    lines.push(`Instance: ${plan.instance.name ?? '-'} on ${plan.instance.node} deleted`);
  if (plan.nodes) {
    const rows = plan.nodes.map((node) => {
      const pods = (plan.pods ?? []).filter((pod) => pod.node === node.name);
      const jobs = (plan.roamJobs ?? []).filter((job) => job.node === node.name);
      return [
        node.name,
        node.ready ? 'Ready' : 'NotReady',
        node.unschedulable ? 'yes' : 'no',
        String(pods.length),
        jobs.map((job) => `${job.tenantId}/${job.jobId}`).join(',') || '-',
      ];
    });
    lines.push('', table(['NODE', 'STATUS', 'CORDONED', 'PODS', 'ROAM JOBS (TENANT/JOB)'], rows));
  }
  return lines.join('\n');
}

/** Posts an action and follows it until the worker is done with it. */
async function runAction(roam: RoamClient, body: Schemas['ActionRequest']): Promise<ActionView> {
  const posted = await roam.api.POST('/api/v1/actions', { body, params: { query: { wait: 30 } } });
  // 422 is an action that ran and failed: it has an id and a view like any other.
  const id = (posted.data ?? (posted.error as { id?: string } | undefined))?.id;
  if (!id || (!posted.response.ok && posted.response.status !== 422))
    throw RoamError.fromBody(posted.response, posted.error);
  for (;;) {
    const view = unwrapData(
      await roam.api.GET('/api/v1/actions/{id}', { params: { path: { id } } }),
    );
    if (view.state === 'succeeded' || view.state === 'failed') return view;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

export function buildProgram(): Command {
  const program = new Command('roam')
    .description('Submit, follow and manage batch jobs on roam')
    .version('0.1.0')
    .showHelpAfterError()
    .exitOverride();

  program
    .command('login')
    .description('store the gateway URL and API key in the config dir (mode 0600)')
    .requiredOption('--url <url>', 'gateway URL, e.g. http://127.0.0.1:3000')
    .option('--api-key <key>', 'API key (default: read from stdin or ROAM_API_KEY)')
    .action(async (options: { url: string; apiKey?: string }) => {
      let apiKey = options.apiKey ?? process.env.ROAM_API_KEY;
      if (!apiKey && !process.stdin.isTTY)
        apiKey = (
          await new Response(Readable.toWeb(process.stdin) as ReadableStream).text()
        ).trim();
      if (!apiKey) throw new ExitError('give --api-key, or pipe the key on stdin', EXIT.usage);
      const roam = new RoamClient({ baseUrl: options.url, apiKey });
      const who = await roam.me().catch((error: unknown) => {
        if (error instanceof RoamError && error.status === 403) return undefined; // an admin key
        throw error;
      });
      const file = await saveCredentials({ url: options.url, apiKey });
      note(
        `logged in to ${options.url}${who ? ` as tenant ${who.tenant_id}` : ' (admin)'}; saved to ${file}`,
      );
    });

  program
    .command('whoami')
    .description('the tenant the current key belongs to')
    .addOption(outputOption())
    .action(async (options: { output: string }) => {
      const roam = await client();
      const me = await roam.me();
      out(
        render(
          format(options),
          [me],
          {
            headers: ['TENANT', 'STATUS', 'NAMESPACE', 'MAX CPU', 'MAX JOBS', 'URL'],
            row: (t) => [
              t.tenant_id,
              t.status,
              t.namespace,
              String(t.max_cpu),
              String(t.max_concurrent_jobs),
              roam.baseUrl,
            ],
            name: (t) => t.tenant_id,
          },
          true,
        ),
      );
    });

  program
    .command('submit')
    .description('submit a job from flags or a JobSpec file')
    .argument('[command...]', 'the command to run (after --)')
    .option('-f, --file <path>', 'JobSpec as YAML or JSON (- for stdin); a list of them is a batch')
    .option('--image <image>', 'container image')
    .option('--name <name>', 'job name')
    .option('--queue <queue>', 'queue')
    .option('--priority <n>', 'priority')
    .option('--cpu <cpu>', 'CPU request, e.g. 100m')
    .option('--memory <memory>', 'memory request, e.g. 128Mi')
    .option('--gpu <gpu>', 'GPUs')
    .option('-e, --env <KEY=VALUE...>', 'environment variables')
    .option('-l, --label <KEY=VALUE...>', 'labels')
    .option('--group <name>', 'put the job (every job of a batch) in this group')
    .option('--array <n>', 'submit an array of n elements (each gets ROAM_ARRAY_INDEX)')
    .option('--parallelism <n>', 'with --array: at most n elements admitted or running at once')
    .option('--inputs <dir>', 'zip this directory and upload it as the job inputs')
    .option('--idempotency-key <key>', 'reuse a key to make a retried submit safe (default: fresh)')
    .option(
      '-w, --watch',
      'follow to the end: a job with its logs, exiting with its exit code; a batch or array with a progress bar, exiting 1 if any element failed',
    )
    .addOption(outputOption())
    .action(async (command: string[], options: Record<string, unknown>) => {
      const file = typeof options.file === 'string' ? await readSpecFile(options.file) : {};
      const batch = Array.isArray(file.jobs) ? (file.jobs as Record<string, unknown>[]) : undefined;
      const specs = (batch ?? [file]).map((base) => buildSpec(base, options, command));
      const many = batch !== undefined || specs[0]!.array !== undefined;
      if (many && options.inputs !== undefined)
        throw new ExitError(
          '--inputs uploads the inputs of one job: not of a batch or array',
          EXIT.usage,
        );
      if (batch && specs.some((spec) => spec.array !== undefined))
        throw new ExitError('a batch takes plain JobSpecs: submit an array on its own', EXIT.usage);
      const roam = await client();
      if (batch) return submitBatch(roam, specs, options);
      const spec = specs[0]!;
      if (spec.array !== undefined) return submitArray(roam, spec, options);
      let inputs: { data: Uint8Array; filename: string } | undefined;
      if (typeof options.inputs === 'string')
        inputs = {
          data: await zipDirectory(options.inputs),
          filename: `${basename(options.inputs)}.zip`,
        };
      const bar = progressBar('upload');
      const job = await roam.submitJob(spec as JobSubmission, {
        ...idempotency(options),
        ...(inputs ? { inputs, onUploadProgress: (sent, total) => bar.update(sent, total) } : {}),
      });
      bar.stop();
      out(render(format(options as { output?: string }), [job], jobView, true));
      if (!options.watch) return;
      const end = await watchJob(roam, job.id, true);
      process.exitCode = jobExitCode(end);
    });

  program
    .command('ls')
    .description('list jobs, newest first')
    .option('-s, --status <status>', 'only jobs in this status')
    .option('-q, --queue <queue>', 'only jobs in this queue')
    .option('-l, --selector <selector>', 'label selector, e.g. team=ml,tier!=dev')
    .option('--limit <n>', 'at most this many jobs', '50')
    .option('-w, --watch', 'redraw every 2 s until interrupted')
    .addOption(outputOption())
    .action(async (options: Record<string, string | boolean>) => {
      const roam = await client();
      const limit = Number(options.limit);
      const list = async () => {
        const jobs: Job[] = [];
        for await (const job of roam.jobs({
          limit: Math.min(limit, 200),
          ...(options.status ? { status: options.status as Job['status'] } : {}),
          ...(options.queue ? { queue: options.queue as string } : {}),
          ...(options.selector ? { labelSelector: options.selector as string } : {}),
        })) {
          jobs.push(job);
          if (jobs.length >= limit) break;
        }
        return render(format(options as { output?: string }), jobs, jobView);
      };
      if (!options.watch) return out(await list());
      for (;;) {
        const text = await list();
        if (process.stdout.isTTY) process.stdout.write('\u001b[2J\u001b[H');
        out(text);
        await new Promise((resolve) => setTimeout(resolve, 2000));
      }
    });

  program
    .command('get')
    .description('one job')
    .argument('<id>')
    .addOption(outputOption())
    .action(async (id: string, options: { output: string }) => {
      const roam = await client();
      out(render(format(options), [await roam.getJob(id)], jobView, true));
    });

  program
    .command('describe')
    .description('a job in full: spec, timeline and why it is where it is')
    .argument('<id>')
    .action(async (id: string) => {
      const roam = await client();
      const [job, events, explanation] = await Promise.all([
        roam.getJob(id),
        roam.jobEvents(id),
        roam.explain(id),
      ]);
      out(
        [
          `Job:      ${job.id}`,
          `Name:     ${job.name}`,
          `Status:   ${colourStatus(job.status)}${job.reason ? ` (${job.reason})` : ''}`,
          `Queue:    ${job.queue}   Priority: ${job.priority}   Attempt: ${job.attempt}`,
          `Exit:     ${job.exit_code ?? '-'}`,
          `Created:  ${job.created_at}`,
          '',
          'Spec:',
          ...JSON.stringify(job.spec, null, 2)
            .split('\n')
            .map((line) => `  ${line}`),
          '',
          'Timeline:',
          ...table(
            ['AT', 'STATUS', 'PHASE', 'REASON'],
            events.map((event) => [event.at, event.status, event.phase, event.reason ?? '']),
          )
            .split('\n')
            .map((line) => `  ${line}`),
          '',
          `Explain:  ${explanation.summary}`,
        ].join('\n'),
      );
    });

  program
    .command('explain')
    .description('why a job is pending, or where it was placed')
    .argument('<id>')
    .addOption(outputOption())
    .action(async (id: string, options: { output: string }) => {
      const roam = await client();
      const explanation = await roam.explain(id);
      if (format(options) === 'table') return out(explanation.summary);
      out(
        render(
          format(options),
          [explanation],
          {
            headers: [],
            row: () => [],
            name: (e) => e.job_id,
          },
          true,
        ),
      );
    });

  program
    .command('logs')
    .description("a job's log")
    .argument('<id>')
    .option('-f, --follow', 'stream new lines until the job ends')
    .option('--tail <n>', 'only the last n lines')
    .action(async (id: string, options: { follow?: boolean; tail?: string }) => {
      const roam = await client();
      const query = options.tail ? { tail: Number(options.tail) } : {};
      if (!options.follow) return void process.stdout.write(await roam.logs(id, query));
      for await (const line of roam.followLogs(id, query)) out(line);
    });

  program
    .command('cancel')
    .description('cancel jobs')
    .argument('<ids...>')
    .addOption(outputOption())
    .action(async (ids: string[], options: { output: string }) => {
      const roam = await client();
      const bar = ids.length > 1 ? progressBar('cancel') : undefined;
      const jobs: Job[] = [];
      for (const id of ids) {
        jobs.push(await roam.cancelJob(id));
        bar?.update(jobs.length, ids.length);
      }
      bar?.stop();
      out(render(format(options), jobs, jobView, ids.length === 1));
    });

  const results = program.command('results').description("a job's result files");
  results
    .command('ls')
    .argument('<id>')
    .addOption(outputOption())
    .action(async (id: string, options: { output: string }) => {
      const roam = await client();
      const list = await roam.results(id);
      out(
        render(format(options), list.files, {
          headers: ['NAME', 'SIZE', 'TYPE'],
          row: (file) => [file.name, String(file.size), file.content_type],
          name: (file) => file.name,
        }),
      );
    });
  results
    .command('get')
    .description('download one file, or every file as a zip')
    .argument('<id>')
    .argument('[path]', 'one result file (default: all, as a zip)')
    .option('-O, --out <file>', 'where to write (default: the file name, or <id>.zip)')
    .option('-d, --dir <dir>', 'unpack every result file into this directory instead of a zip')
    .option(
      '--max-bytes <n>',
      'with -d: refuse an archive larger than this, packed or unpacked',
      String(DEFAULT_UNPACK_LIMIT),
    )
    .action(
      async (
        id: string,
        path: string | undefined,
        options: { out?: string; dir?: string; maxBytes: string },
      ) => {
        if (options.dir !== undefined) {
          if (path || options.out)
            throw new ExitError('-d unpacks every result file: drop [path] and -O', EXIT.usage);
          const limit = Number(options.maxBytes);
          if (!Number.isSafeInteger(limit) || limit <= 0)
            throw new ExitError('--max-bytes takes a positive whole number', EXIT.usage);
          const roam = await client();
          const response = await roam.resultsZip(id);
          const chunks: Buffer[] = [];
          let size = 0;
          for await (const chunk of Readable.fromWeb(response.body as WebReadableStream)) {
            size += (chunk as Buffer).length;
            if (size > limit)
              throw new ExitError(
                `the archive is larger than ${limit} bytes (raise --max-bytes)`,
                EXIT.error,
              );
            chunks.push(chunk as Buffer);
          }
          const unpacked = await unpackZip(Buffer.concat(chunks), options.dir, limit).catch(
            (error: Error) => {
              throw new ExitError(error.message, EXIT.error);
            },
          );
          note(`unpacked ${unpacked.files} files (${unpacked.bytes} bytes) into ${options.dir}`);
          return;
        }
        const roam = await client();
        const response = path ? await roam.resultFile(id, path) : await roam.resultsZip(id);
        const target = options.out ?? (path ? basename(path) : `${id}.zip`);
        const total = Number(response.headers.get('content-length') ?? 0);
        const bar = progressBar('download');
        let done = 0;
        const counter = new Transform({
          transform(chunk: Buffer, _encoding, callback) {
            done += chunk.length;
            bar.update(done, Math.max(total, done));
            callback(null, chunk);
          },
        });
        await pipeline(
          Readable.fromWeb(response.body as WebReadableStream),
          counter,
          target === '-' ? process.stdout : createWriteStream(target),
        );
        bar.stop();
        if (target !== '-') note(`wrote ${target} (${done} bytes)`);
      },
    );

  program
    .command('events')
    .description("the tenant's event feed")
    .option('-f, --follow', 'stream live events until interrupted')
    .option('--type <type>', 'only events of this type (prefix match as the API does)')
    .option('--after <position>', 'start after this position')
    .addOption(outputOption())
    .action(
      async (options: { follow?: boolean; type?: string; after?: string; output: string }) => {
        const roam = await client();
        const query = {
          ...(options.type ? { type: options.type } : {}),
          ...(options.after ? { after: options.after } : {}),
        };
        const line = (event: Event) =>
          format(options) === 'json'
            ? JSON.stringify(event)
            : `${event.position}  ${event.type}  ${JSON.stringify(event.event.data ?? {})}`;
        if (!options.follow) {
          for await (const event of roam.events(query)) out(line(event));
          return;
        }
        const controller = new AbortController();
        process.once('SIGINT', () => controller.abort());
        for await (const event of roam.eventStream(query, controller.signal)) out(line(event));
      },
    );

  const arrays = program.command('arrays').description('job arrays: progress, elements, cancel');
  arrays
    .command('get')
    .argument('<id>')
    .addOption(outputOption())
    .action(async (id: string, options: { output: string }) => {
      const roam = await client();
      out(render(format(options), [await roam.getArray(id)], arrayView, true));
    });
  arrays
    .command('watch')
    .description('a progress bar until every element has finished; exit 1 if any failed')
    .argument('<id>')
    .action(async (id: string) => {
      const roam = await client();
      const end = await watchCounts(`array ${id}`, () => roam.getArray(id), arrayCounts);
      process.exitCode = batchExitCode(arrayCounts(end));
    });
  arrays
    .command('elements')
    .description("an array's elements (jobs), by index")
    .argument('<id>')
    .option('-s, --status <status>', 'only elements in this status')
    .addOption(outputOption())
    .action(async (id: string, options: { status?: string; output: string }) => {
      const roam = await client();
      const jobs: Job[] = [];
      let cursor: number | undefined;
      do {
        const page = unwrapData(
          await roam.api.GET('/api/v1/arrays/{id}/elements', {
            params: {
              path: { id },
              query: {
                limit: 500,
                ...(options.status ? { status: options.status as Job['status'] } : {}),
                ...(cursor !== undefined ? { cursor } : {}),
              },
            },
          }),
        );
        jobs.push(...page.items);
        cursor = page.next_cursor ?? undefined;
      } while (cursor !== undefined);
      out(render(format(options), jobs, jobView));
    });
  arrays
    .command('cancel')
    .description('cancel every element not finished yet')
    .argument('<id>')
    .action(async (id: string) => {
      const roam = await client();
      const { cancelled } = unwrapData(
        await roam.api.DELETE('/api/v1/arrays/{id}', { params: { path: { id } } }),
      );
      note(`cancelled ${cancelled} elements of ${id}`);
    });

  const pipelines = program.command('pipelines').description('pipelines: list, steps, cancel');
  pipelines
    .command('ls')
    .description('your pipelines, newest first')
    .addOption(
      new Option('-s, --state <state>', 'only pipelines in this state').choices([
        'running',
        'succeeded',
        'failed',
        'cancelled',
      ]),
    )
    .addOption(outputOption())
    .action(async (options: { state?: string; output: string }) => {
      const roam = await client();
      const page = unwrapData(
        await roam.api.GET('/api/v1/pipelines', {
          params: {
            query: {
              limit: 200,
              ...(options.state
                ? { state: options.state as 'running' | 'succeeded' | 'failed' | 'cancelled' }
                : {}),
            },
          },
        }),
      );
      out(render(format(options), page.items, pipelineView));
    });
  pipelines
    .command('get')
    .description("a pipeline's steps with their status and counts")
    .argument('<id>')
    .addOption(outputOption())
    .action(async (id: string, options: { output: string }) => {
      const roam = await client();
      const pipeline = unwrapData(
        await roam.api.GET('/api/v1/pipelines/{id}', { params: { path: { id } } }),
      );
      // A table of its steps; json, yaml and name give the pipeline as the API does.
      if (format(options) === 'table') out(render('table', pipeline.steps, pipelineStepView));
      else
        out(
          render(
            format(options),
            [pipeline],
            { headers: [], row: () => [], name: (p) => p.id },
            true,
          ),
        );
    });
  pipelines
    .command('cancel')
    .description('cancel every step not finished yet')
    .argument('<id>')
    .action(async (id: string) => {
      const roam = await client();
      unwrapData(await roam.api.DELETE('/api/v1/pipelines/{id}', { params: { path: { id } } }));
      note(`cancelled pipeline ${id}`);
    });

  const groups = program.command('groups').description('job groups (sweeps): progress, cancel');
  groups
    .command('ls')
    .addOption(outputOption())
    .action(async (options: { output: string }) => {
      const roam = await client();
      const page = unwrapData(
        await roam.api.GET('/api/v1/groups', { params: { query: { limit: 200 } } }),
      );
      out(render(format(options), page.items, groupView));
    });
  groups
    .command('get')
    .argument('<name>')
    .addOption(outputOption())
    .action(async (name: string, options: { output: string }) => {
      const roam = await client();
      out(render(format(options), [await roam.getGroup(name)], groupView, true));
    });
  groups
    .command('watch')
    .description('a progress bar until every job of the group has finished; exit 1 if any failed')
    .argument('<name>')
    .action(async (name: string) => {
      const roam = await client();
      const end = await watchCounts(`group ${name}`, () => roam.getGroup(name), groupCounts);
      process.exitCode = batchExitCode(groupCounts(end));
    });
  groups
    .command('cancel')
    .description('cancel every job of the group not finished yet')
    .argument('<name>')
    .action(async (name: string) => {
      const roam = await client();
      const { cancelled } = unwrapData(
        await roam.api.DELETE('/api/v1/groups/{name}', { params: { path: { name } } }),
      );
      note(`cancelled ${cancelled} jobs of group ${name}`);
    });

  const tenants = program.command('tenants').description('tenants (admin)');
  tenants
    .command('ls')
    .addOption(outputOption())
    .action(async (options: { output: string }) => {
      const roam = await client();
      const page = unwrapData(
        await roam.api.GET('/api/v1/tenants', { params: { query: { limit: 200 } } }),
      );
      out(render(format(options), page.items, tenantView));
    });

  tenants
    .command('get')
    .argument('[id]', "tenant (default: the current key's)")
    .addOption(outputOption())
    .action(async (id: string | undefined, options: { output: string }) => {
      const roam = await client();
      const tenant = id
        ? unwrapData(await roam.api.GET('/api/v1/tenants/{id}', { params: { path: { id } } }))
        : await roam.me();
      out(render(format(options), [tenant], tenantView, true));
    });
  tenants
    .command('create')
    .description('create a tenant and print its first API key (shown once)')
    .argument('<id>')
    .option('--max-cpu <n>', 'CPU cores')
    .option('--max-memory-gi <n>', 'memory in GiB')
    .option('--max-gpu <n>', 'GPUs')
    .option('--max-jobs <n>', 'jobs running at once')
    .action(
      async (
        id: string,
        options: { maxCpu?: string; maxMemoryGi?: string; maxGpu?: string; maxJobs?: string },
      ) => {
        const roam = await client();
        const number = (value: string | undefined, flag: string) => {
          if (value === undefined) return undefined;
          const n = Number(value);
          if (!Number.isFinite(n) || n < 0)
            throw new ExitError(`${flag} needs a number, got "${value}"`, EXIT.usage);
          return n;
        };
        const limits = Object.entries({
          max_cpu: number(options.maxCpu, '--max-cpu'),
          max_memory_gi: number(options.maxMemoryGi, '--max-memory-gi'),
          max_gpu: number(options.maxGpu, '--max-gpu'),
          max_concurrent_jobs: number(options.maxJobs, '--max-jobs'),
        }).filter(([, value]) => value !== undefined);
        const created = unwrapData(
          await roam.api.POST('/api/v1/tenants', {
            body: { tenant_id: id, ...Object.fromEntries(limits) },
          }),
        );
        note(`created tenant ${created.tenant_id}; its API key is shown once:`);
        out(created.api_key);
      },
    );

  const keys = program.command('keys').description("a tenant's API keys");
  const keyView: Printable<{
    id: string;
    name: string;
    prefix: string;
    created_at: string;
    revoked_at: string | null;
  }> = {
    headers: ['ID', 'NAME', 'PREFIX', 'AGE', 'REVOKED'],
    row: (k) => [k.id, k.name, k.prefix, age(k.created_at), k.revoked_at ?? '-'],
    name: (k) => k.id,
  };
  const tenantOf = async (roam: RoamClient, tenant?: string) =>
    tenant ?? (await roam.me()).tenant_id;
  keys
    .command('ls')
    .option('--tenant <id>', "tenant (default: the current key's)")
    .addOption(outputOption())
    .action(async (options: { tenant?: string; output: string }) => {
      const roam = await client();
      const id = await tenantOf(roam, options.tenant);
      const list = unwrapData(
        await roam.api.GET('/api/v1/tenants/{id}/keys', { params: { path: { id } } }),
      );
      out(render(format(options), list.items, keyView));
    });
  keys
    .command('create')
    .argument('<name>')
    .option('--tenant <id>', "tenant (default: the current key's)")
    .action(async (name: string, options: { tenant?: string }) => {
      const roam = await client();
      const id = await tenantOf(roam, options.tenant);
      const key = unwrapData(
        await roam.api.POST('/api/v1/tenants/{id}/keys', {
          params: { path: { id } },
          body: { name },
        }),
      );
      note(`created key ${key.id}; it is shown once:`);
      out(key.api_key);
    });
  keys
    .command('revoke')
    .argument('<keyId>')
    .option('--tenant <id>', "tenant (default: the current key's)")
    .action(async (keyId: string, options: { tenant?: string }) => {
      const roam = await client();
      const id = await tenantOf(roam, options.tenant);
      unwrapData(
        await roam.api.DELETE('/api/v1/tenants/{id}/keys/{keyId}', {
          params: { path: { id, keyId } },
        }),
      );
      note(`revoked ${keyId}`);
    });

  const webhooks = program.command('webhooks').description("the tenant's webhooks");
  webhooks
    .command('ls')
    .addOption(outputOption())
    .action(async (options: { output: string }) => {
      const roam = await client();
      const list = unwrapData(await roam.api.GET('/api/v1/webhooks'));
      out(render(format(options), list.items, webhookView));
    });

  webhooks
    .command('create')
    .description('subscribe a URL to events; prints the signing secret (shown once)')
    .argument('<url>')
    .option('--event <type...>', 'only these events, e.g. job.succeeded job.failed (default: all)')
    .option('--description <text>', 'what it is for')
    .addOption(outputOption())
    .action(
      async (url: string, options: { event?: string[]; description?: string; output: string }) => {
        const roam = await client();
        const hook = unwrapData(
          await roam.api.POST('/api/v1/webhooks', {
            body: {
              url,
              ...(options.event ? { events: options.event } : {}),
              ...(options.description ? { description: options.description } : {}),
            },
          }),
        );
        if (format(options) !== 'table')
          return out(render(format(options), [hook], webhookView, true));
        note(`created webhook ${hook.id}; its signing secret is shown once:`);
        out(hook.secret);
      },
    );
  webhooks
    .command('rm')
    .argument('<id>')
    .action(async (id: string) => {
      const roam = await client();
      unwrapData(await roam.api.DELETE('/api/v1/webhooks/{id}', { params: { path: { id } } }));
      note(`deleted webhook ${id}`);
    });

  const actions = program.command('actions').description('failover actions on node pools (admin)');
  actions
    .command('ls')
    .addOption(outputOption())
    .action(async (options: { output: string }) => {
      const roam = await client();
      const page = unwrapData(await roam.api.GET('/api/v1/actions', { params: { query: {} } }));
      out(render(format(options), page.items, actionView));
    });
  actions
    .command('get')
    .argument('<id>')
    .addOption(outputOption())
    .action(async (id: string, options: { output: string }) => {
      const roam = await client();
      const action = unwrapData(
        await roam.api.GET('/api/v1/actions/{id}', { params: { path: { id } } }),
      );
      if (format(options) !== 'table')
        return out(render(format(options), [action], actionView, true));
      out(describeAction(action));
    });
  actions
    .command('run')
    .description('run an action; --dry-run shows its impact first, then asks before running it')
    .argument('<type>', ACTION_TYPES.join(', '))
    .requiredOption('--pool <pool>', 'node pool')
    .requiredOption('--reason <text>', 'why (kept in the audit trail)')
    .option('--requestor <name>', 'who asks', process.env.USER ?? 'roam-cli')
    .option('--jobset <name>', 'the JobSet to restart (cordon_nodepool_and_restart_jobset)')
    .option('--namespace <ns>', "the JobSet's namespace", 'default')
    .option('--node <name>', 'the node whose instance a repair deletes')
    .option('--dry-run', 'show the impact table first, then ask to confirm')
    .option('-y, --yes', 'do not ask (needed to go on from a dry run without a terminal)')
    .action(
      async (
        type: string,
        options: {
          pool: string;
          reason: string;
          requestor: string;
          jobset?: string;
          namespace: string;
          node?: string;
          dryRun?: boolean;
          yes?: boolean;
        },
      ) => {
        if (!(ACTION_TYPES as readonly string[]).includes(type))
          throw new ExitError(
            `unknown action type "${type}": one of ${ACTION_TYPES.join(', ')}`,
            EXIT.usage,
          );
        const roam = await client();
        const body = {
          type: type as (typeof ACTION_TYPES)[number],
          namespace: options.namespace,
          dry_run: false,
          node_pool: options.pool,
          reason: options.reason,
          requestor: options.requestor,
          ...(options.jobset ? { jobset_name: options.jobset } : {}),
          ...(options.node ? { node_name: options.node } : {}),
        };
        if (options.dryRun) {
          const plan = await runAction(roam, { ...body, dry_run: true });
          out(describeAction(plan));
          if (plan.state === 'failed')
            throw new ExitError(`dry run failed: ${plan.error ?? 'see above'}`, EXIT.error);
          if (!options.yes) {
            if (!process.stdin.isTTY)
              throw new ExitError('not confirmed: no terminal to ask on (pass --yes)', EXIT.error);
            if (!(await confirm(`run ${type} on ${options.pool}?`)))
              throw new ExitError('not confirmed', EXIT.error);
          }
        }
        const done = await runAction(roam, body);
        out(describeAction(done));
        if (done.state !== 'succeeded')
          throw new ExitError(`action ${done.id} ${done.state}: ${done.error ?? ''}`, EXIT.error);
      },
    );

  program
    .command('completion')
    .description('print a shell completion script: roam completion bash >> ~/.bashrc')
    .argument('[shell]', 'bash or zsh', 'bash')
    .action((shell: string) => out(completionScript(program, shell)));

  program.addHelpText(
    'after',
    `\nConfig: ${configFile()} (ROAM_URL and ROAM_API_KEY override it).`,
  );
  return program;
}

function unwrapData<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.response.ok) return result.data as T;
  throw RoamError.fromBody(result.response, result.error);
}

/** The exit code for an error: usage 2, auth 3, not found 4, conflict 5, anything else 1. */
export function exitCodeOf(error: unknown): number {
  if (error instanceof ExitError) return error.code;
  if (error instanceof RoamError) {
    if (error.status === 401 || error.status === 403) return EXIT.auth;
    if (error.status === 404) return EXIT.notFound;
    if (error.status === 409) return EXIT.conflict;
    if (error.status === 400 || error.status === 422) return EXIT.usage;
  }
  return EXIT.error;
}

async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode === 0 ? 0 : EXIT.usage;
      return;
    }
    const problem = error instanceof RoamError ? error.problem : undefined;
    note(`roam: ${error instanceof Error ? error.message : String(error)}`);
    for (const detail of problem?.errors ?? []) note(`  ${detail.path}: ${detail.message}`);
    process.exitCode = exitCodeOf(error);
  }
}

await main(process.argv);
