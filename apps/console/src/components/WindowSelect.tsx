/** The time windows a series page offers, shortest first. */
const WINDOWS = [
  { hours: 1, label: 'Last hour' },
  { hours: 6, label: 'Last 6 hours' },
  { hours: 24, label: 'Last 24 hours' },
  { hours: 168, label: 'Last 7 days' },
];

/** A labelled choice of how far back a chart reaches, in hours. */
export function WindowSelect(props: {
  id: string;
  hours: number;
  onChange: (hours: number) => void;
}) {
  return (
    <>
      <label htmlFor={props.id}>Window</label>{' '}
      <select
        id={props.id}
        value={props.hours}
        onChange={(event) => props.onChange(Number(event.target.value))}
      >
        {WINDOWS.map((window) => (
          <option key={window.hours} value={window.hours}>
            {window.label}
          </option>
        ))}
      </select>
    </>
  );
}
