import { RoamError, type Schemas } from '@roam/client';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';

import { formatTime } from '../format.js';
import { describeError, useSession } from '../session.js';

type ActionRequest = Schemas['ActionRequest'];
type ActionType = ActionRequest['type'];

const ACTION_TYPES: { type: ActionType; label: string }[] = [
  { type: 'cordon_nodepool', label: 'Cordon the pool' },
  { type: 'cordon_nodepool_and_restart_jobset', label: 'Cordon the pool and restart a JobSet' },
  { type: 'cordon_and_repair_nodepool', label: 'Cordon the pool and repair a node' },
  { type: 'repair_nodepool', label: 'Repair a node (recreate its instance)' },
  { type: 'uncordon_nodepool', label: 'Uncordon the pool' },
];

/** What a dry run says the action would do (the failover worker's plan). */
interface Plan {
  nodePool: string;
  nodes: { name: string; unschedulable: boolean; ready: boolean }[];
  pods: { namespace: string; name: string; node: string }[];
  roamJobs: { jobId: string; tenantId: string; name: string; status: string; node: string }[];
  tenants: string[];
  steps: { name: string }[];
  poolCordoned: boolean | null;
  preflight: { checked: boolean; expected?: number; found: number };
}

export function ClusterPage() {
  const { client } = useSession();
  const cluster = useQuery({
    queryKey: ['cluster'],
    queryFn: async () => {
      const result = await client.api.GET('/admin/cluster');
      if (!result.data) throw RoamError.fromBody(result.response, result.error);
      return result.data;
    },
    refetchInterval: 10_000,
  });
  const nodes = cluster.data?.nodes ?? [];
  const pools = [...new Set(nodes.map((node) => poolOf(node.name)))].sort();
  return (
    <>
      <h1>Cluster</h1>
      <section aria-labelledby="nodes-heading">
        <h2 id="nodes-heading">Nodes ({cluster.data?.total_nodes ?? '…'})</h2>
        {cluster.error ? <p className="error">{describeError(cluster.error)}</p> : null}
        <table className="grid">
          <caption className="visually-hidden">Nodes by pool</caption>
          <thead>
            <tr>
              <th scope="col">Node</th>
              <th scope="col">Pool</th>
              <th scope="col">Conditions</th>
              <th scope="col">Schedulable</th>
              <th scope="col">CPU (allocatable)</th>
              <th scope="col">Memory (allocatable)</th>
              <th scope="col">Pods running</th>
            </tr>
          </thead>
          <tbody>
            {nodes.map((node) => (
              <tr key={node.name}>
                <th scope="row">{node.name}</th>
                <td>{poolOf(node.name)}</td>
                <td>{node.status.join(', ') || 'not ready'}</td>
                <td>{node.unschedulable ? 'cordoned' : 'yes'}</td>
                <td>{node.allocatable.cpu ?? '—'}</td>
                <td>{node.allocatable.memory ?? '—'}</td>
                <td>{node.pods_running}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <Failover pools={pools} />
      <AuditLog />
    </>
  );
}

/** Nodes are named `<pool>-<n>` (GKE adds a hash before the index; the simulator does not). */
const poolOf = (node: string) => node.replace(/-[0-9]+$/, '');

function Failover(props: { pools: string[] }) {
  const { client } = useSession();
  const queries = useQueryClient();
  const [type, setType] = useState<ActionType>('cordon_nodepool');
  const [pool, setPool] = useState('');
  const [jobset, setJobset] = useState('');
  const [node, setNode] = useState('');
  const [reason, setReason] = useState('');
  const [requestor, setRequestor] = useState('console');
  const [preview, setPreview] = useState<{ request: ActionRequest; plan: Plan } | null>(null);
  const [outcome, setOutcome] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const request = (dryRun: boolean): ActionRequest => ({
    type,
    dry_run: dryRun,
    requestor: requestor.trim(),
    reason: reason.trim(),
    namespace: 'default',
    ...(pool.trim() ? { node_pool: pool.trim() } : {}),
    ...(jobset.trim() ? { jobset_name: jobset.trim() } : {}),
    ...(node.trim() ? { node_name: node.trim() } : {}),
  });

  /** Runs the action (a dry run or for real) and reads it back once it has finished. */
  const run = async (body: ActionRequest) => {
    const submitted = await client.api.POST('/api/v1/actions', {
      body,
      params: { query: { wait: 30 } },
    });
    const id = submitted.data?.id;
    if (!id) throw RoamError.fromBody(submitted.response, submitted.error);
    const action = await client.api.GET('/api/v1/actions/{id}', { params: { path: { id } } });
    if (!action.data) throw RoamError.fromBody(action.response, action.error);
    return action.data;
  };

  const dryRun = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    setOutcome(null);
    setPreview(null);
    try {
      const body = request(true);
      const action = await run(body);
      if (action.state === 'failed') setError(`The dry run was refused: ${action.error ?? ''}`);
      else setPreview({ request: body, plan: action.plan as Plan });
    } catch (caught) {
      setError(describeError(caught));
    } finally {
      setBusy(false);
      void queries.invalidateQueries({ queryKey: ['actions'] });
    }
  };

  const confirm = async () => {
    if (!preview) return;
    setBusy(true);
    setError(null);
    try {
      const action = await run({ ...preview.request, dry_run: false });
      setOutcome(
        action.state === 'failed'
          ? `Action ${action.id} failed: ${action.error ?? ''}`
          : `Action ${action.id} is ${action.state}.`,
      );
      setPreview(null);
    } catch (caught) {
      setError(describeError(caught));
    } finally {
      setBusy(false);
      void queries.invalidateQueries({ queryKey: ['actions'] });
      void queries.invalidateQueries({ queryKey: ['cluster'] });
    }
  };

  return (
    <section aria-labelledby="failover-heading">
      <h2 id="failover-heading">Failover actions</h2>
      <p>
        Every action is first run as a dry run: it shows what would change, and only then can it be
        confirmed.
      </p>
      <form className="form" onSubmit={(event) => void dryRun(event)}>
        <label htmlFor="action-type">Action</label>
        <select
          id="action-type"
          value={type}
          onChange={(event) => {
            setType(event.target.value as ActionType);
            setPreview(null);
          }}
        >
          {ACTION_TYPES.map((t) => (
            <option key={t.type} value={t.type}>
              {t.label}
            </option>
          ))}
        </select>
        <label htmlFor="action-pool">Node pool</label>
        <input
          id="action-pool"
          list="known-pools"
          value={pool}
          onChange={(event) => {
            setPool(event.target.value);
            setPreview(null);
          }}
        />
        <datalist id="known-pools">
          {props.pools.map((p) => (
            <option key={p} value={p} />
          ))}
        </datalist>
        {type === 'cordon_nodepool_and_restart_jobset' ? (
          <>
            <label htmlFor="action-jobset">JobSet</label>
            <input id="action-jobset" value={jobset} onChange={(e) => setJobset(e.target.value)} />
          </>
        ) : null}
        {type === 'repair_nodepool' || type === 'cordon_and_repair_nodepool' ? (
          <>
            <label htmlFor="action-node">Node</label>
            <input id="action-node" value={node} onChange={(e) => setNode(e.target.value)} />
          </>
        ) : null}
        <label htmlFor="action-reason">Reason</label>
        <input
          id="action-reason"
          required
          value={reason}
          onChange={(event) => setReason(event.target.value)}
        />
        <label htmlFor="action-requestor">Requested by</label>
        <input
          id="action-requestor"
          required
          value={requestor}
          onChange={(event) => setRequestor(event.target.value)}
        />
        <button type="submit" disabled={busy}>
          Preview (dry run)
        </button>
      </form>
      {error ? (
        <p role="alert" className="error">
          {error}
        </p>
      ) : null}
      {outcome ? <p role="status">{outcome}</p> : null}
      {preview ? <Impact plan={preview.plan} busy={busy} onConfirm={() => void confirm()} /> : null}
    </section>
  );
}

function Impact(props: { plan: Plan; busy: boolean; onConfirm: () => void }) {
  const { plan } = props;
  return (
    <div className="impact" data-testid="impact">
      <h3>Impact preview</h3>
      <p>
        Steps: {plan.steps.map((s) => s.name.replaceAll('_', ' ')).join(', then ') || 'none'}.{' '}
        {plan.nodes.length} node(s) of pool <strong>{plan.nodePool}</strong>, {plan.pods.length}{' '}
        pod(s) on them, {plan.roamJobs.length} roam job(s) of {plan.tenants.length} tenant(s)
        {plan.tenants.length ? `: ${plan.tenants.join(', ')}` : ''}.
        {plan.preflight.checked
          ? ` Preflight: ${plan.preflight.found} node(s) found, ${plan.preflight.expected ?? 'any'} expected.`
          : ''}
      </p>
      {plan.roamJobs.length ? (
        <ul>
          {plan.roamJobs.map((job) => (
            <li key={job.jobId}>
              {job.tenantId}/{job.name} ({job.status}) on {job.node}
            </li>
          ))}
        </ul>
      ) : null}
      <button type="button" className="danger" disabled={props.busy} onClick={props.onConfirm}>
        Confirm and run
      </button>
    </div>
  );
}

function AuditLog() {
  const { client } = useSession();
  const actions = useQuery({
    queryKey: ['actions'],
    queryFn: async () => {
      const result = await client.api.GET('/api/v1/actions', { params: { query: { limit: 20 } } });
      if (!result.data) throw RoamError.fromBody(result.response, result.error);
      return result.data.items;
    },
  });
  return (
    <section aria-labelledby="audit-heading">
      <h2 id="audit-heading">Audit log (latest 20)</h2>
      <table className="grid">
        <caption className="visually-hidden">Failover actions, newest first</caption>
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Action</th>
            <th scope="col">Pool</th>
            <th scope="col">Dry run</th>
            <th scope="col">State</th>
            <th scope="col">By</th>
            <th scope="col">Reason</th>
          </tr>
        </thead>
        <tbody>
          {(actions.data ?? []).map((action) => (
            <tr key={action.id}>
              <td>{formatTime(action.created_at)}</td>
              <td>{action.type}</td>
              <td>{action.node_pool ?? '—'}</td>
              <td>{action.dry_run ? 'yes' : 'no'}</td>
              <td>{action.state}</td>
              <td>{action.requestor}</td>
              <td>{action.reason}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
