export interface BatcherOptions {
  /** Most items in one write (and, waiting, the number that writes at once). Default 200. */
  max?: number | undefined;
  /** Writes in flight at once. Default 1. */
  concurrency?: number | undefined;
  /** How long a write holds its turn before the next batch may go. Default 5 s. */
  stallMs?: number | undefined;
  /** How long the oldest item may wait for others; default 0 (the next turn). */
  lingerMs?: number | undefined;
}

interface Waiting<T> {
  item: T;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Coalesces writes that arrive together into one: an item waits for the next turn of the
 * event loop, or `lingerMs` after the oldest arrived (or until `max` wait), then the batch is
 * written at once. Each `add` settles with its batch's write, so a caller still learns whether
 * its item landed. A linger trades that much delay for fewer, larger writes: for writes nobody
 * waits on (a record of what already happened), whose rate alone keeps batches small.
 *
 * At most `concurrency` writes are in flight: what arrives meanwhile waits for one to end and
 * goes in the next batch (group commit). An idle batcher writes on the next turn as before;
 * under load the batches grow with the rate instead of the statements. A write still running
 * after `stallMs` (a hung connection, a lock wait) gives its turn up, so it holds back only its
 * own items, never every batch after it.
 */
export class Batcher<T> {
  private waiting: Waiting<T>[] = [];
  /** When the oldest waiting item arrived: the linger counts from there. */
  private oldestAt = 0;
  private scheduled = false;
  private inFlight = 0;
  /** Items in writes that have not settled yet (a stalled write's too). */
  private writing = 0;
  private settledWaiters: (() => void)[] = [];
  private readonly max: number;
  private readonly concurrency: number;
  private readonly stallMs: number;
  private readonly lingerMs: number;

  constructor(
    private readonly write: (items: T[]) => Promise<void>,
    options: BatcherOptions = {},
  ) {
    this.max = options.max ?? 200;
    this.concurrency = options.concurrency ?? 1;
    this.stallMs = options.stallMs ?? 5000;
    this.lingerMs = options.lingerMs ?? 0;
  }

  /** Items added and not written yet: waiting, or in a write that has not settled. */
  get pending(): number {
    return this.waiting.length + this.writing;
  }

  /** Resolves once nothing is pending: every item added so far written, or its write failed. */
  settled(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.settledWaiters.push(resolve));
  }

  add(item: T): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (this.waiting.length === 0) this.oldestAt = Date.now();
      this.waiting.push({ item, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    // A write in flight schedules the next batch when it ends.
    if (this.inFlight >= this.concurrency || this.waiting.length === 0) return;
    if (this.waiting.length >= this.max) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      const run = () => {
        this.scheduled = false;
        this.flush();
      };
      // What waited through a write has lingered already: it goes on the next turn.
      const linger = this.oldestAt + this.lingerMs - Date.now();
      if (linger > 0) setTimeout(run, linger);
      else setImmediate(run);
    }
  }

  private flush(): void {
    while (this.inFlight < this.concurrency && this.waiting.length > 0) {
      const batch = this.waiting.splice(0, this.max);
      this.inFlight += 1;
      this.writing += batch.length;
      let holding = true;
      const giveUpTurn = () => {
        if (!holding) return;
        holding = false;
        clearTimeout(stalled);
        this.inFlight -= 1;
        this.schedule();
      };
      const stalled = setTimeout(giveUpTurn, this.stallMs);
      new Promise<void>((resolve) => resolve(this.write(batch.map((w) => w.item))))
        .then(
          () => batch.forEach((w) => w.resolve()),
          (error: unknown) => batch.forEach((w) => w.reject(error)),
        )
        .finally(() => {
          this.writing -= batch.length;
          giveUpTurn();
          if (this.pending > 0) return;
          for (const resolve of this.settledWaiters.splice(0)) resolve();
        });
    }
  }
}
