// The faults, chosen by the seeded random loop: kill -9 an app (the gateway mid-request, the
// notifier mid-delivery), kill -9 NATS or Postgres (the whole process group: crash recovery on
// restart), SIGSTOP an app past its lease then SIGCONT, drop the simulator's watches. The
// launcher's supervisor restarts whatever was killed, as it would in `pnpm dev`.
import { APPS, type App, type ChaosStack } from './stack.js';
import { type Random, sleep } from './random.js';
import type { WebhookReceiver } from './receiver.js';

export type FaultKind =
  | 'kill-app'
  | 'kill-gateway-mid-request'
  | 'kill-notifier-mid-delivery'
  | 'restart-nats'
  | 'restart-postgres'
  | 'pause-app'
  | 'drop-watches';

export interface Fault {
  cycle: number;
  kind: FaultKind;
  target: string;
  pid?: number;
  at: string;
  note?: string;
}

export class FaultInjector {
  readonly log: Fault[] = [];

  constructor(
    private readonly stack: ChaosStack,
    private readonly receiver: WebhookReceiver,
    private readonly random: Random,
    private readonly options: { pauseMs: number },
  ) {}

  async inject(cycle: number): Promise<Fault> {
    const kind = this.random.weighted<FaultKind>([
      ['kill-app', 4],
      ['kill-gateway-mid-request', 1],
      ['kill-notifier-mid-delivery', 1],
      ['restart-nats', 1],
      ['restart-postgres', 1],
      ['pause-app', 1.5],
      ['drop-watches', 1.5],
    ]);
    const fault: Fault = { cycle, kind, target: '', at: new Date().toISOString() };
    switch (kind) {
      case 'kill-app':
        fault.target = this.random.pick(APPS);
        fault.pid = this.signal(fault.target, 'SIGKILL');
        break;
      case 'kill-gateway-mid-request':
        // The workload lanes always have requests in flight; uploads stream for a while.
        fault.target = 'gateway';
        fault.pid = this.signal('gateway', 'SIGKILL');
        break;
      case 'kill-notifier-mid-delivery': {
        fault.target = 'notifier';
        const deadline = Date.now() + 5_000;
        while (this.receiver.inFlight === 0 && Date.now() < deadline) await sleep(20);
        fault.note = this.receiver.inFlight > 0 ? 'a delivery in flight' : 'no delivery in flight';
        fault.pid = this.signal('notifier', 'SIGKILL');
        break;
      }
      case 'restart-nats':
        fault.target = 'nats';
        fault.pid = this.signal('nats', 'SIGKILL');
        break;
      case 'restart-postgres':
        // The postmaster and every backend: a crash, recovered from the WAL on restart.
        fault.target = 'postgres';
        fault.pid = this.signal('postgres', 'SIGKILL', true);
        break;
      case 'pause-app': {
        const app: App = this.random.pick(APPS);
        fault.target = app;
        fault.pid = this.signal(app, 'SIGSTOP');
        fault.note = `paused ${this.options.pauseMs} ms`;
        await sleep(this.options.pauseMs);
        if (fault.pid !== undefined) safeKill(fault.pid, 'SIGCONT');
        break;
      }
      case 'drop-watches': {
        fault.target = 'sim';
        const response = await fetch(
          `http://127.0.0.1:${this.stack.ports.sim}/sim/v1/faults/drop-watches`,
          { method: 'POST' },
        ).catch(() => undefined);
        fault.note = `answered ${response?.status ?? 'nothing'}`;
        break;
      }
    }
    this.log.push(fault);
    return fault;
  }

  private signal(name: string, signal: NodeJS.Signals, group = false): number | undefined {
    const pid = this.stack.pid(name);
    if (pid === undefined) return undefined;
    safeKill(group ? -pid : pid, signal);
    return pid;
  }
}

function safeKill(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    /* already gone (restarting) */
  }
}
