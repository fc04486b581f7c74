import { type operations, RoamError, type Schemas } from '@roam/client';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';

import { formatTime } from '../format.js';
import { describeError, useSession } from '../session.js';

type Template = Schemas['Template'];
type TemplateSpecInput =
  operations['Templates_create']['requestBody']['content']['application/json']['spec'];

const EXAMPLE = JSON.stringify(
  {
    image: 'busybox',
    command: ['sh', '-c', 'echo hello'],
    resources: { cpu: '500m', memory: '256Mi' },
  },
  null,
  2,
);

/** The tenant's templates (create, replace the spec, delete) and the read-only built-ins. */
export function TemplatesPage() {
  const { client } = useSession();
  const queries = useQueryClient();
  const [editing, setEditing] = useState<Template | 'new' | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const templates = useQuery({
    queryKey: ['templates'],
    queryFn: async () => {
      const result = await client.api.GET('/api/v1/templates');
      if (!result.data) throw RoamError.fromBody(result.response, result.error);
      return result.data.items;
    },
  });

  const remove = async (name: string) => {
    const result = await client.api.DELETE('/api/v1/templates/{name}', {
      params: { path: { name } },
    });
    setNotice(
      result.response.ok
        ? `Deleted ${name}.`
        : describeError(RoamError.fromBody(result.response, result.error)),
    );
    await queries.invalidateQueries({ queryKey: ['templates'] });
  };

  return (
    <>
      <h1>Templates</h1>
      <p>
        A template is a complete job spec; submit it with <code>{'{"template": "name"}'}</code> and
        any fields to override, or pick it on the Submit page.
      </p>
      {templates.error ? (
        <p role="alert" className="error">
          {describeError(templates.error)}
        </p>
      ) : null}
      <div className="toolbar">
        <button type="button" onClick={() => setEditing('new')}>
          New template
        </button>
        <span role="status">{notice}</span>
      </div>
      <table className="grid" data-testid="templates">
        <caption className="visually-hidden">Your templates and the built-ins</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Image</th>
            <th scope="col">Kind</th>
            <th scope="col">Updated</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {(templates.data ?? []).map((template) => (
            <tr key={`${template.builtin}-${template.name}`}>
              <th scope="row">{template.name}</th>
              <td>{template.spec.image}</td>
              <td>{template.builtin ? 'built-in (read-only)' : 'yours'}</td>
              <td>{formatTime(template.updated_at)}</td>
              <td>
                {template.builtin ? (
                  '—'
                ) : (
                  <div className="toolbar">
                    <button
                      type="button"
                      aria-label={`Edit template ${template.name}`}
                      onClick={() => setEditing(template)}
                    >
                      Edit
                    </button>
                    <button
                      type="button"
                      className="danger"
                      aria-label={`Delete template ${template.name}`}
                      onClick={() => void remove(template.name)}
                    >
                      Delete
                    </button>
                  </div>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {editing ? (
        <TemplateForm
          key={editing === 'new' ? 'new' : editing.name}
          template={editing === 'new' ? null : editing}
          onDone={(message) => {
            setEditing(null);
            setNotice(message);
          }}
        />
      ) : null}
    </>
  );
}

/** Create (name and spec) or replace a spec; the API's 400 names every refused field. */
function TemplateForm(props: { template: Template | null; onDone: (message: string) => void }) {
  const { client } = useSession();
  const queries = useQueryClient();
  const [name, setName] = useState(props.template?.name ?? '');
  const [spec, setSpec] = useState(
    props.template ? JSON.stringify(props.template.spec, null, 2) : EXAMPLE,
  );
  const [error, setError] = useState<string | null>(null);

  const save = async (event: FormEvent) => {
    event.preventDefault();
    let parsed: TemplateSpecInput;
    try {
      // The API validates it and names every bad field; the browser only checks it is JSON.
      parsed = JSON.parse(spec) as TemplateSpecInput;
    } catch (cause) {
      setError(`The spec is not JSON: ${(cause as Error).message}`);
      return;
    }
    const result = props.template
      ? await client.api.PUT('/api/v1/templates/{name}', {
          params: { path: { name: props.template.name } },
          body: { spec: parsed },
        })
      : await client.api.POST('/api/v1/templates', { body: { name: name.trim(), spec: parsed } });
    if (!result.response.ok) {
      setError(describeError(RoamError.fromBody(result.response, result.error)));
      return;
    }
    await queries.invalidateQueries({ queryKey: ['templates'] });
    props.onDone(props.template ? `Saved ${props.template.name}.` : `Created ${name.trim()}.`);
  };

  return (
    <section aria-labelledby="template-form-heading">
      <h2 id="template-form-heading">
        {props.template ? `Edit ${props.template.name}` : 'New template'}
      </h2>
      <form className="form" onSubmit={(event) => void save(event)}>
        <label htmlFor="template-name">Name</label>
        <input
          id="template-name"
          value={name}
          maxLength={63}
          required
          readOnly={props.template !== null}
          pattern="[a-z0-9]([-a-z0-9]*[a-z0-9])?"
          title="lower-case letters, digits and -"
          onChange={(event) => setName(event.target.value)}
        />
        <label htmlFor="template-spec">Spec (JSON)</label>
        <textarea
          id="template-spec"
          rows={14}
          value={spec}
          spellCheck={false}
          onChange={(event) => setSpec(event.target.value)}
        />
        {error ? (
          <p role="alert" className="error">
            {error}
          </p>
        ) : null}
        <div className="toolbar">
          <button type="submit">{props.template ? 'Save template' : 'Create template'}</button>
          <button type="button" onClick={() => props.onDone('')}>
            Cancel
          </button>
        </div>
      </form>
    </section>
  );
}
