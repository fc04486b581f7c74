import { Readable } from 'node:stream';

import { describe, expect, it } from '@jest/globals';

import { inWindows, linesOf, mergeByTime, wholeLogLine } from './replica-logs.js';

const collect = async <T>(source: AsyncIterable<T>): Promise<T[]> => {
  const out: T[] = [];
  for await (const item of source) out.push(item);
  return out;
};

/** A stream's chunks, as a store's read gives them. */
const chunks = (...parts: (string | Buffer)[]): AsyncIterable<string | Buffer> =>
  Readable.from(parts);

/** What the whole log was before the merge: every line, a stable sort by time. */
const stableSorted = (replicas: { replica: string; text: string }[]) =>
  replicas
    .flatMap(({ replica, text }) =>
      text
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => wholeLogLine(line, replica)),
    )
    .sort((a, b) => a.at - b.at)
    .map((entry) => entry.text)
    .join('');

describe('wholeLogLine', () => {
  it.each([
    [
      '2026-01-01T00:00:00.5Z hello world',
      'w-1',
      Date.parse('2026-01-01T00:00:00.5Z'),
      '2026-01-01T00:00:00.5Z [w-1] hello world\n',
    ],
    [
      '2026-01-01T00:00:01Z',
      '0',
      Date.parse('2026-01-01T00:00:01Z'),
      '2026-01-01T00:00:01Z [0] \n',
    ],
    ['no stamp here', '3', 0, 'no [3] stamp here\n'],
  ])('%s in replica %s', (line, replica, at, text) => {
    expect(wholeLogLine(line, replica)).toEqual({ at, text });
  });
});

describe('linesOf', () => {
  it.each([
    ['split anywhere', ['a\nb', 'c\n\nd\n'], ['a', 'bc', 'd']],
    ['no trailing newline', ['x\ny'], ['x', 'y']],
    ['a carriage return stays in its line', ['50%\r100%\n'], ['50%\r100%']],
    ['only newlines', ['\n\n', '\n'], []],
  ])('%s', async (_, parts, expected) => {
    expect((await collect(linesOf(chunks(...parts)))).flat()).toEqual(expected);
  });

  it('decodes a character split between chunks', async () => {
    const bytes = Buffer.from('é€\n', 'utf8');
    const parts = [...bytes].map((b) => Buffer.from([b]));
    expect((await collect(linesOf(chunks(...parts)))).flat()).toEqual(['é€']);
  });
});

describe('inWindows', () => {
  it('reads a byte range a window at a time, each request read whole before the next', async () => {
    const object = Buffer.from('0123456789abcdefghij', 'utf8');
    const requests: [number, number][] = [];
    let open = 0;
    const read = (start: number, end: number) => {
      requests.push([start, end]);
      return Promise.resolve(
        Readable.from(
          (function* () {
            open += 1;
            for (let i = start; i <= end; i += 2)
              yield object.subarray(i, Math.min(i + 2, end + 1));
            open -= 1;
          })(),
        ),
      );
    };
    const windows: string[] = [];
    for await (const window of inWindows(read, 3, 12, 5)) {
      expect(open).toBe(0); // nothing left open while the consumer holds a window
      windows.push(window.toString('utf8'));
    }
    expect(windows).toEqual(['34567', '89abc', 'de']);
    expect(requests).toEqual([
      [3, 7],
      [8, 12],
      [13, 14],
    ]);
  });

  it('gives linesOf a character split between windows whole', async () => {
    const object = Buffer.from('aé\nb€\n', 'utf8');
    const read = (start: number, end: number) =>
      Promise.resolve(Readable.from([object.subarray(start, end + 1)]));
    const lines = (await collect(linesOf(inWindows(read, 0, object.length, 2)))).flat();
    expect(lines).toEqual(['aé', 'b€']);
  });
});

describe('mergeByTime', () => {
  const stamp = (ms: number) => new Date(Date.UTC(2026, 0, 1) + ms).toISOString();

  it('gives what a stable sort of every line gives, ties in replica then line order', async () => {
    // Pods whose lines share milliseconds, one replica of two pods, an empty pod.
    const pods = [
      { replica: '0', lines: [0, 2, 2, 5] },
      { replica: '1', lines: [1, 2, 5, 5] },
      { replica: 'worker-0', lines: [2, 3] },
      { replica: 'worker-0', lines: [0, 2] },
      { replica: '2', lines: [] },
    ];
    const text = (pod: (typeof pods)[number], p: number) =>
      pod.lines.map((ms, i) => `${stamp(ms)} pod ${p} line ${i}\n`).join('');
    const replicas = ['0', '1', 'worker-0', '2'];
    const expected = stableSorted(
      replicas.map((replica) => ({
        replica,
        text: pods.map((pod, p) => (pod.replica === replica ? text(pod, p) : '')).join(''),
      })),
    );
    const sources = pods.map((pod, p) => {
      const before = pods
        .slice(0, p)
        .filter((other) => other.replica === pod.replica)
        .reduce((n, other) => n + other.lines.length, 0);
      return {
        replica: pod.replica,
        order: replicas.indexOf(pod.replica),
        firstLine: before,
        lines: linesOf(chunks(text(pod, p))),
      };
    });
    expect((await collect(mergeByTime(sources))).join('')).toBe(expected);
  });

  it('merges 40 pods of many lines in chunks, the same as the stable sort', async () => {
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const replicas = Array.from({ length: 40 }, (_, r) => {
      let ms = 0;
      const lines = Array.from({ length: 500 }, (_, i) => {
        ms += Math.floor(random() * 3);
        return `${stamp(ms)} replica ${r} line ${i} ${'x'.repeat(Math.floor(random() * 200))}\n`;
      });
      return { replica: String(r), text: lines.join('') };
    });
    const out = await collect(
      mergeByTime(
        replicas.map(({ replica, text }, order) => ({
          replica,
          order,
          firstLine: 0,
          lines: linesOf(chunks(text)),
        })),
      ),
    );
    expect(out.length).toBeGreaterThan(1);
    expect(out.join('')).toBe(stableSorted(replicas));
  });
});
