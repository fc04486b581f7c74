import type { OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import type { Logger } from 'pino';

/** The timers a loop uses. Tests pass a fake one and move its time by hand. */
export interface LoopClock {
  now(): number;
  /** Calls `run` once after `ms`; the timer must not keep the process alive. */
  setTimeout(run: () => void, ms: number): unknown;
  clearTimeout(timer: unknown): void;
}

export const systemClock: LoopClock = {
  now: () => Date.now(),
  setTimeout: (run, ms) => setTimeout(run, ms).unref(),
  clearTimeout: (timer) => clearTimeout(timer as NodeJS.Timeout),
};

export interface LoopOptions {
  /** Names the loop in logs and in its health: "admission cycle", "outbox relay pass". */
  name: string;
  /** The period: time from the end of one pass to the start of the next. */
  intervalMs: number;
  /**
   * One pass. A throw (or rejection) is a failed pass: logged, then retried after a backoff.
   * `signal` aborts when the loop stops, for passes that can end early.
   */
  pass: (signal: AbortSignal) => Promise<unknown>;
  logger: Logger;
  /** The first pass at `start()`; otherwise one period after it. */
  runAtStart?: boolean;
  /**
   * Wait after the n-th failure in a row: `initialMs · 2^(n-1)`, at most `maxMs`. Defaults: the
   * period, capped at 16 periods or a minute, whichever is less (never below the period).
   */
  backoff?: { initialMs?: number; maxMs?: number };
  /** How long `stop()` waits for the pass in progress. Default 5 s. */
  stopTimeoutMs?: number;
  /** Level at which failed passes are logged. Default `warn`. */
  failureLevel?: 'debug' | 'warn' | 'error';
  clock?: LoopClock;
}

export interface LoopHealth {
  name: string;
  /** A pass is in progress. */
  running: boolean;
  lastSuccessAt: Date | undefined;
  lastFailureAt: Date | undefined;
  /** Failed passes since the last success; 0 when the last pass succeeded. */
  consecutiveFailures: number;
}

const DEFAULT_STOP_TIMEOUT_MS = 5_000;
const DEFAULT_BACKOFF_CAP_MS = 60_000;

/**
 * Runs a pass on a period, the way every timer in roam runs (like Kueue's
 * `wait.UntilWithBackoff`):
 * - passes never overlap; the period counts from the end of a pass;
 * - `wake()` runs a pass now, or, during a pass, exactly one more right after it however many
 *   wake-ups came; a wake-up does not cut a backoff short;
 * - a failed pass is logged with the loop's name and retried after an exponential backoff,
 *   capped; the first success returns the loop to its period;
 * - `stop()` starts no further pass and waits (up to `stopTimeoutMs`) for the one in progress.
 */
export class Loop {
  private state: 'new' | 'idle' | 'running' | 'stopped' = 'new';
  private timer: unknown;
  private backingOff = false;
  private woken = false;
  private current: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;
  private readonly abort = new AbortController();
  private readonly clock: LoopClock;
  private readonly backoff: { initialMs: number; maxMs: number };
  private failures = 0;
  private lastSuccessAt: number | undefined;
  private lastFailureAt: number | undefined;

  constructor(private readonly options: LoopOptions) {
    this.clock = options.clock ?? systemClock;
    const period = options.intervalMs;
    const maxMs =
      options.backoff?.maxMs ?? Math.max(period, Math.min(16 * period, DEFAULT_BACKOFF_CAP_MS));
    this.backoff = { initialMs: Math.min(options.backoff?.initialMs ?? period, maxMs), maxMs };
  }

  get name(): string {
    return this.options.name;
  }

  get health(): LoopHealth {
    const date = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms));
    return {
      name: this.options.name,
      running: this.current !== undefined,
      lastSuccessAt: date(this.lastSuccessAt),
      lastFailureAt: date(this.lastFailureAt),
      consecutiveFailures: this.failures,
    };
  }

  /** Starts the loop; a second call does nothing. */
  start(): void {
    if (this.state !== 'new') return;
    this.state = 'idle';
    if (this.options.runAtStart) this.run();
    else this.schedule(this.options.intervalMs, false);
  }

  /** Asks for a pass soon. Ignored before `start()` and after `stop()`. */
  wake(): void {
    switch (this.state) {
      case 'running':
        this.woken = true;
        return;
      case 'idle':
        if (!this.backingOff) this.run();
        return;
      case 'new':
      case 'stopped':
        return;
    }
  }

  /** Starts no further pass and waits for the one in progress, at most `stopTimeoutMs`. */
  stop(): Promise<void> {
    this.stopping ??= this.halt();
    return this.stopping;
  }

  private async halt(): Promise<void> {
    this.state = 'stopped';
    this.clearTimer();
    this.abort.abort();
    const current = this.current;
    if (!current) return;
    const timeoutMs = this.options.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS;
    let timer: unknown;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = this.clock.setTimeout(() => resolve(true), timeoutMs);
    });
    const late = await Promise.race([current.then(() => false), timedOut]);
    this.clock.clearTimeout(timer);
    if (late)
      this.options.logger.warn(
        { loop: this.options.name, timeoutMs },
        `${this.options.name} still running at stop; not waiting for it`,
      );
  }

  private schedule(delayMs: number, backingOff: boolean): void {
    this.clearTimer();
    this.backingOff = backingOff;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.backingOff = false;
      if (this.state === 'idle') this.run();
    }, delayMs);
  }

  private clearTimer(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.backingOff = false;
  }

  private run(): void {
    this.clearTimer();
    this.state = 'running';
    this.woken = false;
    // Started from a resolved promise, so a pass that throws synchronously is a failed pass too.
    this.current = Promise.resolve()
      .then(() => this.options.pass(this.abort.signal))
      .then(
        () => this.succeeded(),
        (error: unknown) => this.failed(error),
      );
  }

  private succeeded(): void {
    if (this.failures > 0)
      this.options.logger.info(
        { loop: this.options.name, failures: this.failures },
        `${this.options.name} succeeded again`,
      );
    this.failures = 0;
    this.lastSuccessAt = this.clock.now();
    this.current = undefined;
    if (this.state === 'stopped') return;
    this.state = 'idle';
    if (this.woken) this.run();
    else this.schedule(this.options.intervalMs, false);
  }

  private failed(error: unknown): void {
    this.failures += 1;
    this.lastFailureAt = this.clock.now();
    this.current = undefined;
    const { initialMs, maxMs } = this.backoff;
    const retryInMs = Math.min(maxMs, initialMs * 2 ** (this.failures - 1));
    const stopped = this.state === 'stopped';
    this.options.logger[this.options.failureLevel ?? 'warn'](
      {
        err: error,
        loop: this.options.name,
        consecutiveFailures: this.failures,
        ...(stopped ? {} : { retryInMs }),
      },
      `${this.options.name} failed`,
    );
    if (stopped) return;
    // Wake-ups that came during the failed pass are served by the retry.
    this.state = 'idle';
    this.schedule(retryInMs, true);
  }
}

/**
 * A provider whose `sweep(now)` runs on a `Loop` (first one period after boot) while the app is
 * up, and which tests can call directly.
 */
export abstract class PeriodicSweep<T> implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly loop: Loop;

  protected constructor(name: string, intervalMs: number, logger: Logger) {
    this.loop = new Loop({ name, intervalMs, logger, pass: () => this.sweep(new Date()) });
  }

  abstract sweep(now: Date): Promise<T>;

  get health(): LoopHealth {
    return this.loop.health;
  }

  onApplicationBootstrap(): void {
    this.loop.start();
  }

  onModuleDestroy(): Promise<void> {
    return this.loop.stop();
  }
}
