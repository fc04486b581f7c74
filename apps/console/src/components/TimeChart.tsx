import 'uplot/dist/uPlot.min.css';

import { useEffect, useRef } from 'react';
import uPlot from 'uplot';

import { formatTime } from '../format.js';

export interface Line {
  label: string;
  values: number[];
  /** A CSS colour; the legend shows it beside the label. */
  colour: string;
  dashed?: boolean;
}

/** Colours with at least 3:1 contrast on white, for lines told apart also by the legend. */
export const PALETTE = [
  '#0b5cad',
  '#a4161a',
  '#1a6b2f',
  '#7a4d00',
  '#6a1b9a',
  '#00695c',
  '#ad1457',
  '#37474f',
  '#4e342e',
  '#283593',
  '#5d4037',
];

/**
 * A time series drawn by uPlot on a canvas, in a figure whose caption names it. The canvas is
 * decoration for assistive technology: the same numbers are in a table under "Show the data".
 */
export function TimeChart(props: {
  title: string;
  times: string[];
  lines: Line[];
  unit: string;
  testId?: string;
}) {
  const target = useRef<HTMLDivElement>(null);
  const { times, lines } = props;
  useEffect(() => {
    const element = target.current;
    if (!element) return;
    const plot = new uPlot(
      {
        width: Math.max(element.clientWidth, 320),
        height: 220,
        legend: { show: false },
        scales: { x: { time: true }, y: { range: (_, min, max) => [0, Math.max(max, min, 1)] } },
        axes: [{}, { label: props.unit }],
        series: [
          {},
          ...lines.map((line) => ({
            label: line.label,
            stroke: line.colour,
            width: 2,
            ...(line.dashed ? { dash: [6, 4] } : {}),
          })),
        ],
      },
      [times.map((time) => Date.parse(time) / 1000), ...lines.map((line) => line.values)],
      element,
    );
    return () => plot.destroy();
  }, [times, lines, props.unit]);

  return (
    <figure className="chart" data-testid={props.testId}>
      <figcaption>{props.title}</figcaption>
      <ul className="legend" aria-label={`${props.title}: lines`}>
        {lines.map((line) => (
          <li key={line.label}>
            <span
              className={`key${line.dashed ? ' dashed' : ''}`}
              style={{ borderColor: line.colour }}
              aria-hidden="true"
            />
            {line.label}
          </li>
        ))}
      </ul>
      <div ref={target} aria-hidden="true" />
      <details>
        <summary>Show the data</summary>
        <div
          className="table-scroll"
          tabIndex={0}
          role="region"
          aria-label={`${props.title}: data`}
        >
          <table className="grid">
            <caption className="visually-hidden">{props.title}</caption>
            <thead>
              <tr>
                <th scope="col">Time</th>
                {lines.map((line) => (
                  <th key={line.label} scope="col">
                    {line.label}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {times.map((time, i) => (
                <tr key={time}>
                  <th scope="row">{formatTime(time)}</th>
                  {lines.map((line) => (
                    <td key={line.label}>{line.values[i]}</td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </figure>
  );
}
