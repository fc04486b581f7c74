// The results scripts are shell that runs in a job's pod or RunPod container. Here they run
// in the real sh, tar, curl and unzip of this machine against a real S3-speaking server
// (s3rver), and what they upload is read back through the storage worker's own reader.
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { eventually } from '@roam/testing';
import yazl from 'yazl';

import {
  DEPS_FETCH_SCRIPT,
  MinioObjectStore,
  NO_RESULTS_MESSAGE,
  packTarGz,
  presignJobFiles,
  replicaResultsUploadKey,
  RESULTS_SIDECAR_SCRIPT,
  resultsUploadKey,
  type RunningS3rver,
  startS3rver,
  tarGzFiles,
  unwrapResults,
  wrapForResults,
} from '../src/index.js';

const limits = { maxEntries: 100, maxUncompressedBytes: 1024 * 1024 };
let s3: RunningS3rver;
let dir: string;
let store: MinioObjectStore;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'roam-results-upload-'));
  s3 = await startS3rver({ directory: join(dir, 's3') });
  store = new MinioObjectStore({
    S3_ENDPOINT: s3.endpoint,
    S3_BUCKET: 'roam-results-upload',
    S3_REGION: 'us-east-1',
    S3_ACCESS_KEY: 'S3RVER',
    S3_SECRET_KEY: 'S3RVER',
    S3_PATH_STYLE: true,
  });
  await store.ensureBucket();
});

afterAll(async () => {
  await s3?.close();
  await rm(dir, { recursive: true, force: true });
});

/** Every file of a tar.gz object, read with the reader the storage worker uses. */
async function filesOf(key: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for await (const file of tarGzFiles(await store.get(key), limits)) {
    const chunks: Buffer[] = [];
    for await (const chunk of file.content) chunks.push(chunk as Buffer);
    out[file.path] = Buffer.concat(chunks).toString('latin1');
  }
  return out;
}

/**
 * Runs `sh <args>` in its own process group. Once the shell exits, anything it left behind
 * in the group (a sleep it did not reap) is killed, so its pipes close and nothing outlives
 * the test.
 */
function run(
  args: string[],
  env: Record<string, string>,
): { pid: number; done: Promise<{ code: number | null; stderr: string }> } {
  const child = spawn('sh', args, {
    env: { PATH: process.env.PATH ?? '', ...env },
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.once('exit', () => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // The group is already empty.
    }
  });
  const done = new Promise<{ code: number | null; stderr: string }>((resolve) =>
    child.once('close', (code) => resolve({ code, stderr })),
  );
  return { pid: child.pid!, done };
}

/** The commands a process's children run (`/proc/<pid>/task/<pid>/children`). */
async function childCommands(pid: number): Promise<string[]> {
  const children = (await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8'))
    .split(' ')
    .filter(Boolean);
  return Promise.all(
    children.map((child) =>
      readFile(`/proc/${child}/comm`, 'utf8').then(
        (comm) => comm.trim(),
        () => '',
      ),
    ),
  );
}

async function zip(files: Record<string, string>): Promise<Buffer> {
  const z = new yazl.ZipFile();
  for (const [path, content] of Object.entries(files)) z.addBuffer(Buffer.from(content), path);
  z.end();
  const chunks: Buffer[] = [];
  for await (const chunk of z.outputStream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe('the dependencies fetcher (roam-deps)', () => {
  it('fetches every file of the manifest to inputs/deps/<path>, spaces and folders kept', async () => {
    const work = await mkdtemp(join(dir, 'deps-'));
    const files = { 'a1/0/tripinfo.xml': '<tripinfos run="0"/>', 'j2/out dir/a b.csv': 'x,y\n' };
    const lines: string[] = [];
    for (const [path, content] of Object.entries(files)) {
      const key = `tenants/t/jobs/${path.split('/')[0]}/results/${path}`;
      await store.put(key, Buffer.from(content), content.length, 'text/plain');
      lines.push(`${await store.presignGet(key, 600)} ${path}\n`);
    }
    const manifest = Buffer.from(lines.join(''));
    await store.put(
      'tenants/t/jobs/j3/inputs/deps-attempt-1.txt',
      manifest,
      manifest.length,
      'text/plain',
    );
    const manifestUrl = await store.presignGet('tenants/t/jobs/j3/inputs/deps-attempt-1.txt', 600);

    const { done } = run(['-c', DEPS_FETCH_SCRIPT], {
      ROAM_DEPS_MANIFEST_URL: manifestUrl,
      ROAM_INPUTS_DIR: join(work, 'inputs'),
    });
    const { code, stderr } = await done;
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    for (const [path, content] of Object.entries(files))
      expect(await readFile(join(work, 'inputs', 'deps', path), 'utf8')).toBe(content);
  });

  it('fails with the reason it was given, fetching nothing', async () => {
    const work = await mkdtemp(join(dir, 'deps-'));
    const { done } = run(['-c', DEPS_FETCH_SCRIPT], {
      ROAM_DEPS_ERROR:
        'the dependencies have 5 result files, more than DEPENDENCY_INPUTS_MAX_FILES (4)',
      ROAM_INPUTS_DIR: join(work, 'inputs'),
    });
    const { code, stderr } = await done;
    expect(code).toBe(1);
    expect(stderr).toBe(
      'roam-deps: the dependencies have 5 result files, more than DEPENDENCY_INPUTS_MAX_FILES (4)\n',
    );
  });
});

describe('the RunPod wrapper (sh -c <wrapper> roam-job <command…>)', () => {
  it('fetches the inputs, runs the command, uploads its results and keeps its exit code', async () => {
    const work = await mkdtemp(join(dir, 'wrapper-'));
    const inputsKey = 'tenants/t/jobs/j1/inputs/inputs.zip';
    const archive = await zip({ 'data/in.txt': 'from the inputs' });
    await store.put(inputsKey, archive, archive.length, 'application/zip');
    const uploadKey = resultsUploadKey('t', 'j1', 1);
    const job = [
      'sh',
      '-c',
      'cp "$ROAM_INPUTS_DIR/data/in.txt" "$ROAM_RESULTS_DIR/copy.txt" && mkdir -p "$ROAM_RESULTS_DIR/sub" && printf "\\001\\377" > "$ROAM_RESULTS_DIR/sub/bin.dat"; exit 3',
    ];
    const { done } = run(wrapForResults(job).slice(1), {
      ROAM_INPUTS_DIR: join(work, 'inputs'),
      ROAM_RESULTS_DIR: join(work, 'results'),
      ROAM_INPUTS_URL: await store.presignGet(inputsKey, 60),
      ROAM_INPUTS_FORMAT: 'zip',
      ROAM_RESULTS_UPLOAD_URL: await store.presignPut(uploadKey, 60),
    });
    const { code, stderr } = await done;
    expect(stderr).toBe('');
    expect(code).toBe(3);
    expect(await filesOf(uploadKey)).toEqual({
      'copy.txt': 'from the inputs',
      'sub/bin.dat': '\u0001\u00ff',
    });
  });

  it('uploads nothing when the command left no results, and keeps its exit code', async () => {
    const work = await mkdtemp(join(dir, 'wrapper-'));
    const uploadKey = resultsUploadKey('t', 'j5', 1);
    const { done } = run(wrapForResults(['sh', '-c', 'exit 4']).slice(1), {
      ROAM_RESULTS_DIR: join(work, 'results'),
      ROAM_RESULTS_UPLOAD_URL: await store.presignPut(uploadKey, 60),
    });
    expect(await done).toEqual({ code: 4, stderr: '' });
    expect(await store.stat(uploadKey)).toBeUndefined();
  });

  it('fails the job, before running it, when the inputs cannot be fetched', async () => {
    const work = await mkdtemp(join(dir, 'wrapper-'));
    const marker = join(work, 'ran');
    const { done } = run(wrapForResults(['sh', '-c', `touch ${marker}`]).slice(1), {
      ROAM_INPUTS_DIR: join(work, 'inputs'),
      ROAM_RESULTS_DIR: join(work, 'results'),
      ROAM_INPUTS_URL: await store.presignGet('tenants/t/jobs/none/inputs/inputs.zip', 60),
      ROAM_INPUTS_FORMAT: 'zip',
    });
    const { code, stderr } = await done;
    expect(code).toBe(1);
    expect(stderr).toContain('roam: could not fetch the inputs');
    await expect(readFile(marker)).rejects.toThrow(/ENOENT/);
  });

  it('is recognised, and undone, only in the shape it was made', () => {
    const command = ['python', 'train.py', '--epochs', '3'];
    expect(unwrapResults(wrapForResults(command))).toEqual(command);
    expect(unwrapResults(['sh', '-c', 'echo hi'])).toBeUndefined();
    expect(unwrapResults(undefined)).toBeUndefined();
  });
});

describe('the Kubernetes results sidecar', () => {
  it('waits for SIGTERM, then uploads the results directory and exits 0', async () => {
    const results = await mkdtemp(join(dir, 'sidecar-'));
    const terminationLog = join(await mkdtemp(join(dir, 'termination-')), 'termination-log');
    const uploadKey = resultsUploadKey('t', 'j2', 2);
    const sidecar = run(['-c', RESULTS_SIDECAR_SCRIPT], {
      ROAM_RESULTS_DIR: results,
      ROAM_RESULTS_UPLOAD_URL: await store.presignPut(uploadKey, 60),
      ROAM_TERMINATION_LOG: terminationLog,
    });
    // The trap is set once the loop's `sleep` child runs (`mkdir` comes before it).
    await eventually('the sidecar to wait', async () =>
      (await childCommands(sidecar.pid)).includes('sleep'),
    );
    expect(await store.stat(uploadKey)).toBeUndefined();
    await mkdir(join(results, 'out'));
    await writeFile(join(results, 'out', 'tripinfo.xml'), '<tripinfos/>');
    process.kill(sidecar.pid, 'SIGTERM');
    expect((await sidecar.done).code).toBe(0);
    expect(await filesOf(uploadKey)).toEqual({ 'out/tripinfo.xml': '<tripinfos/>' });
    // An upload leaves no "none" message for the storage worker to trust.
    await expect(readFile(terminationLog)).rejects.toThrow(/ENOENT/);
  });

  it('uploads nothing when the results directory is empty, says so in its termination message, and exits 0', async () => {
    const results = await mkdtemp(join(dir, 'sidecar-'));
    const terminationLog = join(await mkdtemp(join(dir, 'termination-')), 'termination-log');
    const uploadKey = resultsUploadKey('t', 'j6', 1);
    const sidecar = run(['-c', RESULTS_SIDECAR_SCRIPT], {
      ROAM_RESULTS_DIR: results,
      ROAM_RESULTS_UPLOAD_URL: await store.presignPut(uploadKey, 60),
      ROAM_TERMINATION_LOG: terminationLog,
    });
    await eventually('the sidecar to wait', async () =>
      (await childCommands(sidecar.pid)).includes('sleep'),
    );
    process.kill(sidecar.pid, 'SIGTERM');
    expect(await sidecar.done).toEqual({ code: 0, stderr: '' });
    expect(await store.stat(uploadKey)).toBeUndefined();
    expect(await readFile(terminationLog, 'utf8')).toBe(NO_RESULTS_MESSAGE);
  });

  it("of a multi-pod job's pod finds its own URL in the attempt's manifest and uploads there", async () => {
    const slots = [
      { slot: 'worker/0/0', prefix: 'worker-0/' },
      { slot: 'worker/1/0', prefix: 'worker-1/' },
    ];
    const urls = await presignJobFiles(
      store,
      {
        id: 'j3',
        tenantId: 't',
        attempt: 1,
        deadlineSeconds: 60,
        inputsKey: null,
        resultSlots: slots,
      },
      60,
    );
    expect(urls.resultsUploadUrl).toBeUndefined();
    const results = await mkdtemp(join(dir, 'replica-'));
    const sidecar = run(['-c', RESULTS_SIDECAR_SCRIPT], {
      ROAM_RESULTS_DIR: results,
      ROAM_RESULTS_MANIFEST_URL: urls.resultsManifestUrl!,
      ROAM_REPLICATED_JOB: 'worker',
      ROAM_RESULTS_JOB_INDEX: '1',
      ROAM_RESULTS_COMPLETION_INDEX: '0',
    });
    await eventually('the sidecar to wait', async () =>
      (await childCommands(sidecar.pid)).includes('sleep'),
    );
    await writeFile(join(results, 'model.txt'), 'worker 1');
    process.kill(sidecar.pid, 'SIGTERM');
    expect((await sidecar.done).code).toBe(0);
    expect(await filesOf(replicaResultsUploadKey('t', 'j3', 1, 'worker-1/'))).toEqual({
      'model.txt': 'worker 1',
    });
    expect(await store.stat(replicaResultsUploadKey('t', 'j3', 1, 'worker-0/'))).toBeUndefined();
  });

  it('of a pod whose slot is not in the manifest fails, saying so', async () => {
    const urls = await presignJobFiles(
      store,
      {
        id: 'j4',
        tenantId: 't',
        attempt: 1,
        deadlineSeconds: 60,
        inputsKey: null,
        resultSlots: [{ slot: 'main/0/0', prefix: '0/' }],
      },
      60,
    );
    const results = await mkdtemp(join(dir, 'replica-'));
    const sidecar = run(['-c', RESULTS_SIDECAR_SCRIPT], {
      ROAM_RESULTS_DIR: results,
      ROAM_RESULTS_MANIFEST_URL: urls.resultsManifestUrl!,
      ROAM_RESULTS_COMPLETION_INDEX: '7',
    });
    await eventually('the sidecar to wait', async () =>
      (await childCommands(sidecar.pid)).includes('sleep'),
    );
    await writeFile(join(results, 'model.txt'), 'worker 7');
    process.kill(sidecar.pid, 'SIGTERM');
    const done = await sidecar.done;
    expect(done.code).toBe(1);
    expect(done.stderr).toContain('no upload URL for main/0/7');
  });
});

describe('tarGzFiles', () => {
  it('streams regular files only, and refuses unsafe paths and archives over the limits', async () => {
    const packed = await packTarGz([
      ['a.txt', Buffer.from('a')],
      ['deep/b.bin', Buffer.from([0, 1, 2])],
    ]);
    const seen: string[] = [];
    for await (const file of tarGzFiles(Readable.from([packed]), limits)) {
      seen.push(`${file.path}:${file.size}`);
      file.content.resume();
    }
    expect(seen).toEqual(['a.txt:1', 'deep/b.bin:3']);

    const drain = async (data: Buffer, max = limits) => {
      for await (const file of tarGzFiles(Readable.from([data]), max)) file.content.resume();
    };
    await expect(drain(await packTarGz([['../up.txt', Buffer.from('x')]]))).rejects.toMatchObject({
      code: 'unsafe-path',
    });
    await expect(
      drain(packed, { maxEntries: 1, maxUncompressedBytes: 1000 }),
    ).rejects.toMatchObject({ code: 'too-many-entries' });
    await expect(drain(Buffer.from('not gzip at all'))).rejects.toMatchObject({
      code: 'not-an-archive',
    });
  });
});
