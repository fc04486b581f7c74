import { describe, expect, it } from '@jest/globals';

import { Output, renderPino } from './output.js';

describe('renderPino', () => {
  it('renders a pino line as time, level, message and fields', () => {
    const line = JSON.stringify({
      level: 40,
      time: Date.UTC(2026, 0, 1, 12, 3, 4),
      pid: 1,
      hostname: 'h',
      msg: 'slow',
      jobId: 'j1',
      n: 2,
    });
    expect(renderPino(line)).toBe('12:03:04 WARN  slow jobId=j1 n=2');
  });

  it('reads labelled levels and ISO times', () => {
    const line = JSON.stringify({
      level: 'error',
      time: '2026-01-01T12:03:04.000Z',
      app: 'gateway',
      msg: 'down',
    });
    expect(renderPino(line)).toBe('12:03:04 ERROR down');
  });

  it('leaves anything else alone', () => {
    expect(renderPino('plain text')).toBe('plain text');
    expect(renderPino('{not json')).toBe('{not json');
  });
});

describe('Output', () => {
  it("prefixes children's lines with their name, aligned, and marks the launcher's own", () => {
    const out: string[] = [];
    const output = new Output({
      pretty: false,
      color: false,
      write: (t) => out.push(t),
      writeError: (t) => out.push(t),
    });
    output.register(['scheduler', 'nats']);
    output.child('nats', 'stdout', '{"msg":"hi"}');
    output.info('ready');
    expect(out).toEqual(['[nats]      {"msg":"hi"}\n', '[stack]     ready\n']);
  });

  it('coalesces lines of one turn into one write, in order, when asked', () => {
    const out: string[] = [];
    const output = new Output({
      pretty: false,
      color: false,
      coalesce: true,
      write: (t) => out.push(t),
      writeError: (t) => out.push(t),
    });
    output.child('sim', 'stdout', 'a');
    output.child('sim', 'stdout', 'b');
    output.info('c');
    expect(out).toEqual([]);
    output.flush();
    expect(out).toEqual(['[sim]   a\n[sim]   b\n[stack] c\n']);
    output.flush();
    expect(out).toHaveLength(1);
  });
});
