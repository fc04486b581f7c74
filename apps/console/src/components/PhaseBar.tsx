import type { Schemas } from '@roam/client';

type Counts = Schemas['JobGroup']['counts'];

/** The phases in the order a job goes through them, left to right on the bar. */
const PHASES = [
  'succeeded',
  'failed',
  'cancelled',
  'running',
  'admitted',
  'queued',
  'submitted',
] as const satisfies readonly (keyof Counts)[];

/**
 * Progress of a set of jobs: a bar finished of total (a real `<progress>`, which assistive
 * technology reads), a stacked bar of every phase beside it, and the counts in words.
 */
export function PhaseBar(props: { label: string; counts: Counts; total: number }) {
  const { counts, total } = props;
  const finished = counts.succeeded + counts.failed + counts.cancelled;
  return (
    <div className="phases">
      <progress value={finished} max={Math.max(total, 1)} aria-label={props.label}>
        {finished} of {total}
      </progress>
      <div className="phasebar" aria-hidden="true">
        {PHASES.filter((phase) => counts[phase] > 0).map((phase) => (
          <span
            key={phase}
            className={`phase-${phase}`}
            style={{ width: `${(100 * counts[phase]) / Math.max(total, 1)}%` }}
          />
        ))}
      </div>
      <ul className="counts" aria-label={`${props.label}: jobs per phase`}>
        {PHASES.map((phase) => (
          <li key={phase}>
            <span className={`swatch phase-${phase}`} aria-hidden="true" />
            {phase} <strong>{counts[phase]}</strong>
          </li>
        ))}
      </ul>
    </div>
  );
}
