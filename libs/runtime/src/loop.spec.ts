import { describe, expect, it } from '@jest/globals';
import type { Logger } from 'pino';

import { Loop, type LoopClock, type LoopOptions } from './loop.js';

/** Time that moves only when a test says so; timers fire in order of their due time. */
class FakeClock implements LoopClock {
  private time = 0;
  private nextId = 0;
  private readonly timers = new Map<number, { at: number; run: () => void }>();

  now(): number {
    return this.time;
  }

  setTimeout(run: () => void, ms: number): unknown {
    this.nextId += 1;
    this.timers.set(this.nextId, { at: this.time + ms, run });
    return this.nextId;
  }

  clearTimeout(timer: unknown): void {
    this.timers.delete(timer as number);
  }

  /** Moves time forward, firing every timer that comes due and letting promises settle after each. */
  async advance(ms: number): Promise<void> {
    const end = this.time + ms;
    await settle();
    for (;;) {
      let next: [number, { at: number; run: () => void }] | undefined;
      for (const entry of this.timers)
        if (entry[1].at <= end && (!next || entry[1].at < next[1].at)) next = entry;
      if (!next) break;
      this.timers.delete(next[0]);
      this.time = next[1].at;
      next[1].run();
      await settle();
    }
    this.time = end;
  }
}

/** Lets every pending promise callback run (no time passes on the fake clock). */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/** How one pass ends: at once or after `ms` of fake time, well or with an error; or never. */
type Outcome = 'ok' | 'fail' | 'hang' | { ms: number; fail?: boolean };

function harness(script: Outcome[], options: Partial<LoopOptions> = {}) {
  const clock = new FakeClock();
  const logs: { level: string; fields: Record<string, unknown>; msg: string }[] = [];
  const log = (level: string) => (fields: Record<string, unknown>, msg: string) =>
    logs.push({ level, fields, msg });
  const logger = {
    debug: log('debug'),
    info: log('info'),
    warn: log('warn'),
    error: log('error'),
  } as unknown as Logger;
  const starts: number[] = [];
  const signals: AbortSignal[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const pass = async (signal: AbortSignal) => {
    const outcome = script[starts.length] ?? 'ok';
    starts.push(clock.now());
    signals.push(signal);
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    try {
      if (outcome === 'hang') await new Promise(() => undefined);
      if (typeof outcome === 'object')
        await new Promise<void>((resolve) => clock.setTimeout(resolve, outcome.ms));
      if (outcome === 'fail' || (typeof outcome === 'object' && outcome.fail))
        throw new Error(`pass ${starts.length} failed`);
    } finally {
      inFlight -= 1;
    }
  };
  const loop = new Loop({ name: 'test loop', intervalMs: 1000, logger, clock, pass, ...options });
  return {
    clock,
    loop,
    logs,
    starts,
    signals,
    maxInFlight: () => maxInFlight,
  };
}

describe('Loop', () => {
  describe('runs on its period and backs off on errors', () => {
    const cases: {
      name: string;
      script: Outcome[];
      options?: Partial<LoopOptions>;
      until: number;
      starts: number[];
    }[] = [
      {
        name: 'first pass one period after start',
        script: [],
        until: 3500,
        starts: [1000, 2000, 3000],
      },
      {
        name: 'first pass at start when asked',
        script: [],
        options: { runAtStart: true },
        until: 2500,
        starts: [0, 1000, 2000],
      },
      {
        name: 'the period counts from the end of a slow pass',
        script: [{ ms: 2500 }, 'ok'],
        options: { runAtStart: true },
        until: 5000,
        starts: [0, 3500, 4500],
      },
      {
        name: 'exponential backoff, capped, then back to the period',
        script: ['fail', 'fail', 'fail', 'fail', 'ok', 'ok'],
        options: { runAtStart: true, backoff: { initialMs: 1000, maxMs: 4000 } },
        until: 12_500,
        starts: [0, 1000, 3000, 7000, 11_000, 12_000],
      },
      {
        name: 'backoff counts from the end of a slow failed pass',
        script: [{ ms: 500, fail: true }, { ms: 500, fail: true }, 'ok'],
        options: { runAtStart: true, backoff: { initialMs: 100 } },
        until: 2300,
        starts: [0, 600, 1300, 2300],
      },
      {
        name: 'default backoff starts at the period and stops at 16 periods',
        script: Array<Outcome>(7).fill('fail'),
        options: { runAtStart: true, intervalMs: 100 },
        until: 6300,
        starts: [0, 100, 300, 700, 1500, 3100, 4700, 6300],
      },
      {
        name: 'default backoff never exceeds a minute',
        script: Array<Outcome>(4).fill('fail'),
        options: { runAtStart: true, intervalMs: 10_000 },
        until: 130_000,
        starts: [0, 10_000, 30_000, 70_000, 130_000],
      },
      {
        name: 'default backoff of a long period is the period',
        script: ['fail', 'fail'],
        options: { intervalMs: 3_600_000 },
        until: 3 * 3_600_000,
        starts: [3_600_000, 2 * 3_600_000, 3 * 3_600_000],
      },
    ];
    it.each(cases)('$name', async ({ script, options, until, starts }) => {
      const h = harness(script, options);
      h.loop.start();
      await h.clock.advance(until);
      expect(h.starts).toEqual(starts);
      expect(h.maxInFlight()).toBe(1);
      await h.loop.stop();
    });
  });

  describe('wake-ups', () => {
    const cases: {
      name: string;
      script: Outcome[];
      options?: Partial<LoopOptions>;
      /** Steps: advance fake time, or wake the loop `n` times. */
      steps: ({ advance: number } | { wake: number } | 'start' | 'stop')[];
      starts: number[];
    }[] = [
      {
        name: 'a wake-up while waiting runs a pass now, then the period resumes from it',
        script: [],
        steps: ['start', { advance: 400 }, { wake: 1 }, { advance: 1500 }],
        starts: [400, 1400],
      },
      {
        name: 'wake-ups during a pass become exactly one follow-up pass, right after it',
        script: [{ ms: 500 }, 'ok'],
        options: { runAtStart: true },
        steps: [
          'start',
          { advance: 100 },
          { wake: 3 },
          { advance: 300 },
          { wake: 2 },
          { advance: 1600 },
        ],
        starts: [0, 500, 1500],
      },
      {
        name: 'a wake-up does not cut a backoff short',
        script: ['fail'],
        options: { runAtStart: true, backoff: { initialMs: 5000 } },
        steps: ['start', { advance: 1000 }, { wake: 4 }, { advance: 4500 }],
        starts: [0, 5000],
      },
      {
        name: 'wake-ups during a failing pass are served by the retry after the backoff',
        script: [{ ms: 100, fail: true }],
        options: { runAtStart: true, backoff: { initialMs: 3000 } },
        steps: ['start', { advance: 50 }, { wake: 2 }, { advance: 3100 }],
        starts: [0, 3100],
      },
      {
        name: 'a wake-up before start does nothing',
        script: [],
        steps: [{ wake: 1 }, { advance: 500 }, 'start', { advance: 999 }],
        starts: [],
      },
      {
        name: 'a wake-up after stop does nothing',
        script: [],
        options: { runAtStart: true },
        steps: ['start', 'stop', { wake: 1 }, { advance: 5000 }],
        starts: [0],
      },
    ];
    it.each(cases)('$name', async ({ script, options, steps, starts }) => {
      const h = harness(script, options);
      for (const step of steps) {
        if (step === 'start') h.loop.start();
        else if (step === 'stop') await h.loop.stop();
        else if ('advance' in step) await h.clock.advance(step.advance);
        else for (let i = 0; i < step.wake; i++) h.loop.wake();
      }
      expect(h.starts).toEqual(starts);
      expect(h.maxInFlight()).toBeLessThanOrEqual(1);
      await h.loop.stop();
    });
  });

  it('lets a pass wake its own loop to go again at once (more work is due)', async () => {
    const clock = new FakeClock();
    const starts: number[] = [];
    const loop: Loop = new Loop({
      name: 'draining',
      intervalMs: 1000,
      logger: {} as Logger,
      clock,
      runAtStart: true,
      pass: async () => {
        starts.push(clock.now());
        await new Promise<void>((resolve) => clock.setTimeout(resolve, 10));
        if (starts.length < 3) loop.wake();
      },
    });
    loop.start();
    await clock.advance(1500);
    expect(starts).toEqual([0, 10, 20, 1030]);
    await loop.stop();
  });

  describe('stop', () => {
    it('waits for the pass in progress, aborts its signal and starts no other', async () => {
      const h = harness([{ ms: 800 }], { runAtStart: true });
      h.loop.start();
      await h.clock.advance(100);
      h.loop.wake();
      let stopped = false;
      const stopping = h.loop.stop().then(() => (stopped = true));
      await h.clock.advance(600);
      expect(stopped).toBe(false);
      expect(h.signals[0]?.aborted).toBe(true);
      expect(h.loop.health.running).toBe(true);
      await h.clock.advance(100);
      await stopping;
      expect(stopped).toBe(true);
      await h.clock.advance(10_000);
      expect(h.starts).toEqual([0]);
      expect(h.loop.health.running).toBe(false);
    });

    it('gives up on a pass that outlasts its timeout, says so, and starts no other', async () => {
      const h = harness(['hang'], { runAtStart: true, stopTimeoutMs: 2000 });
      h.loop.start();
      await h.clock.advance(10);
      let stopped = false;
      const stopping = h.loop.stop().then(() => (stopped = true));
      await h.clock.advance(1999);
      expect(stopped).toBe(false);
      await h.clock.advance(1);
      await stopping;
      expect(stopped).toBe(true);
      expect(h.logs).toContainEqual({
        level: 'warn',
        fields: { loop: 'test loop', timeoutMs: 2000 },
        msg: 'test loop still running at stop; not waiting for it',
      });
      await h.clock.advance(10_000);
      expect(h.starts).toEqual([0]);
    });

    it.each([
      { name: 'waiting for its period', script: [] as Outcome[] },
      { name: 'backing off', script: ['fail'] as Outcome[] },
    ])('while $name returns at once and no pass follows', async ({ script }) => {
      const h = harness(script, { runAtStart: true });
      h.loop.start();
      await h.clock.advance(10);
      await h.loop.stop();
      await h.loop.stop();
      await h.clock.advance(100_000);
      expect(h.starts).toEqual([0]);
    });
  });

  describe('health and logs', () => {
    it('counts failures in a row, names the loop in the log, and resets on success', async () => {
      const h = harness(['fail', 'fail', 'ok'], {
        runAtStart: true,
        backoff: { initialMs: 100 },
        failureLevel: 'error',
      });
      expect(h.loop.health).toEqual({
        name: 'test loop',
        running: false,
        lastSuccessAt: undefined,
        lastFailureAt: undefined,
        consecutiveFailures: 0,
      });
      h.loop.start();
      await h.clock.advance(150);
      expect(h.loop.health).toMatchObject({
        lastSuccessAt: undefined,
        lastFailureAt: new Date(100),
        consecutiveFailures: 2,
      });
      const failures = h.logs.filter((l) => l.level === 'error');
      expect(failures.map((l) => [l.msg, l.fields.loop, l.fields.retryInMs])).toEqual([
        ['test loop failed', 'test loop', 100],
        ['test loop failed', 'test loop', 200],
      ]);
      expect((failures[1]?.fields.err as Error).message).toBe('pass 2 failed');
      expect(failures[1]?.fields.consecutiveFailures).toBe(2);
      await h.clock.advance(200);
      expect(h.loop.health).toMatchObject({
        lastSuccessAt: new Date(300),
        lastFailureAt: new Date(100),
        consecutiveFailures: 0,
      });
      expect(h.logs.at(-1)).toEqual({
        level: 'info',
        fields: { loop: 'test loop', failures: 2 },
        msg: 'test loop succeeded again',
      });
      await h.loop.stop();
    });

    it('reports a pass in progress', async () => {
      const h = harness([{ ms: 500 }], { runAtStart: true });
      h.loop.start();
      await h.clock.advance(100);
      expect(h.loop.health.running).toBe(true);
      await h.clock.advance(500);
      expect(h.loop.health.running).toBe(false);
      await h.loop.stop();
    });

    it('treats a pass that throws before returning a promise as a failed pass', async () => {
      const clock = new FakeClock();
      const warnings: string[] = [];
      const logger = { warn: (_: unknown, msg: string) => warnings.push(msg) } as unknown as Logger;
      const loop = new Loop({
        name: 'sync thrower',
        intervalMs: 1000,
        logger,
        clock,
        runAtStart: true,
        pass: () => {
          throw new Error('at once');
        },
      });
      loop.start();
      await clock.advance(0);
      expect(loop.health.consecutiveFailures).toBe(1);
      expect(warnings).toEqual(['sync thrower failed']);
      await loop.stop();
    });
  });
});
