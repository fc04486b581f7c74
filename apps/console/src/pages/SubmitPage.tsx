import type { JobSubmission } from '@roam/client';
import { useQuery } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';

import { navigate } from '../router.js';
import { describeError, storedKey, useSession } from '../session.js';
import { submitWithInputs } from '../upload.js';

/** `key=value` lines into a map; a line without `=` is an error naming it. */
function parsePairs(field: string, text: string): Record<string, string> | undefined {
  const pairs: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) throw new Error(`${field}: "${line}" is not key=value`);
    pairs[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
  }
  return Object.keys(pairs).length ? pairs : undefined;
}

interface Fields {
  template: string;
  name: string;
  image: string;
  command: string;
  cpu: string;
  memory: string;
  gpu: string;
  queue: string;
  priority: string;
  labels: string;
  env: string;
  annotations: string;
}

const EMPTY: Fields = {
  template: '',
  name: '',
  image: '',
  command: '',
  cpu: '500m',
  memory: '256Mi',
  gpu: '0',
  queue: '',
  priority: '0',
  labels: '',
  env: '',
  annotations: '',
};

/** The form as a JobSpec, or `{ template, ...overrides }` with only the fields filled in. */
function toSubmission(fields: Fields): JobSubmission {
  const spec: Record<string, unknown> = {};
  const set = (key: string, value: unknown) => {
    if (value !== undefined && value !== '') spec[key] = value;
  };
  set('name', fields.name.trim());
  set('image', fields.image.trim());
  if (fields.command.trim()) spec.command = ['sh', '-c', fields.command.trim()];
  const resources: Record<string, unknown> = {};
  if (fields.cpu.trim()) resources.cpu = fields.cpu.trim();
  if (fields.memory.trim()) resources.memory = fields.memory.trim();
  if (fields.gpu.trim() && fields.gpu.trim() !== '0') resources.gpu = Number(fields.gpu);
  if (Object.keys(resources).length) spec.resources = resources;
  set('queue', fields.queue.trim());
  if (fields.priority.trim() && fields.priority.trim() !== '0')
    spec.priority = Number(fields.priority);
  set('labels', parsePairs('Labels', fields.labels));
  set('env', parsePairs('Environment', fields.env));
  set('annotations', parsePairs('Annotations', fields.annotations));
  if (fields.template) return { template: fields.template, ...spec };
  return spec as JobSubmission;
}

export function SubmitPage() {
  const { client } = useSession();
  const [fields, setFields] = useState<Fields>(EMPTY);
  const [inputs, setInputs] = useState<File | null>(null);
  const [progress, setProgress] = useState<{ sent: number; total: number } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const templates = useQuery({
    queryKey: ['templates'],
    queryFn: async () => {
      const result = await client.api.GET('/api/v1/templates');
      return result.data?.items ?? [];
    },
  });

  const field = (name: keyof Fields) => ({
    id: `field-${name}`,
    name,
    value: fields[name],
    onChange: (event: { target: { value: string } }) =>
      setFields((current) => ({ ...current, [name]: event.target.value })),
  });

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    setBusy(true);
    try {
      const spec = toSubmission(fields);
      const job = inputs
        ? await submitWithInputs({
            apiKey: storedKey() ?? '',
            spec,
            inputs,
            onProgress: (sent, total) => setProgress({ sent, total }),
          })
        : await client.submitJob(spec);
      navigate(`/jobs/${job.id}`);
    } catch (caught) {
      setError(describeError(caught));
    } finally {
      setBusy(false);
    }
  };

  const usingTemplate = fields.template !== '';
  return (
    <>
      <h1>Submit a job</h1>
      <form className="form" onSubmit={(event) => void submit(event)}>
        <label htmlFor="field-template">Template</label>
        <select {...field('template')}>
          <option value="">None: write the spec below</option>
          {(templates.data ?? []).map((template) => (
            <option key={template.name} value={template.name}>
              {template.name}
              {template.builtin ? ' (built-in)' : ''}
            </option>
          ))}
        </select>

        <label htmlFor="field-name">Name</label>
        <input {...field('name')} placeholder="optional" />

        <label htmlFor="field-image">Image</label>
        <input {...field('image')} required={!usingTemplate} placeholder="busybox" />

        <label htmlFor="field-command">Command (run with sh -c)</label>
        <input {...field('command')} required={!usingTemplate} placeholder="echo hello; sleep 5" />

        <fieldset>
          <legend>Resources</legend>
          <label htmlFor="field-cpu">CPU</label>
          <input {...field('cpu')} />
          <label htmlFor="field-memory">Memory</label>
          <input {...field('memory')} />
          <label htmlFor="field-gpu">GPUs</label>
          <input {...field('gpu')} type="number" min={0} />
        </fieldset>

        <label htmlFor="field-queue">Queue</label>
        <input {...field('queue')} placeholder="user-queue" />
        <label htmlFor="field-priority">Priority</label>
        <input {...field('priority')} type="number" />

        <label htmlFor="field-labels">Labels (key=value, one a line)</label>
        <textarea {...field('labels')} rows={2} />
        <label htmlFor="field-env">Environment (KEY=value, one a line)</label>
        <textarea {...field('env')} rows={2} />
        <label htmlFor="field-annotations">Annotations (key=value, one a line)</label>
        <textarea {...field('annotations')} rows={2} />

        <label htmlFor="field-inputs">Inputs (zip or tar.gz, optional)</label>
        <input
          id="field-inputs"
          name="inputs"
          type="file"
          accept=".zip,.tar.gz,.tgz"
          onChange={(event) => setInputs(event.target.files?.[0] ?? null)}
        />

        <button type="submit" disabled={busy}>
          {busy ? 'Submitting…' : 'Submit'}
        </button>
      </form>
      {progress ? (
        <p>
          <label htmlFor="upload-progress">Upload</label>{' '}
          <progress id="upload-progress" max={progress.total} value={progress.sent} />{' '}
          <span role="status">
            {Math.round((100 * progress.sent) / Math.max(progress.total, 1))}% of {progress.total}{' '}
            bytes
          </span>
        </p>
      ) : null}
      <p role="alert" className="error">
        {error}
      </p>
    </>
  );
}
