import type { Response } from 'express';

import { sseData, sseEvent } from './log-lines.js';
import { type LocatedLog, type LogRequest, type LogsService } from './logs.service.js';

function logHeaders(response: Response, log: LocatedLog): void {
  response.setHeader('Roam-Log-Source', log.location.kind);
  response.setHeader('Roam-Log-Attempt', String(log.attempt));
  if (log.podName) response.setHeader('Roam-Log-Pod', log.podName);
  if (log.location.kind === 'none') response.setHeader('Roam-Log-Reason', log.location.reason);
}

/** Aborts when the client goes away, so the Kubernetes stream behind it is closed too. */
function abortOnClose(response: Response): AbortSignal {
  const controller = new AbortController();
  response.once('close', () => controller.abort());
  return controller.signal;
}

/** Plain text; an empty body carries `Roam-Log-Reason` saying why. */
export async function sendLogText(
  response: Response,
  logs: LogsService,
  log: LocatedLog,
  request: LogRequest,
): Promise<void> {
  const { text, reason } = await logs.read(log, request);
  logHeaders(response, log);
  if (reason) response.setHeader('Roam-Log-Reason', reason);
  response.status(200).type('text/plain; charset=utf-8').send(text);
}

/** Chunked text/plain that ends when the pod's container ends (or at once for a finished pod). */
export async function followLogText(
  response: Response,
  logs: LogsService,
  log: LocatedLog,
  request: LogRequest,
): Promise<void> {
  const signal = abortOnClose(response);
  log = await logs.untilFollowable(log, signal);
  logHeaders(response, log);
  response.status(200);
  response.setHeader('Content-Type', 'text/plain; charset=utf-8');
  response.setHeader('Cache-Control', 'no-cache');
  response.setHeader('X-Content-Type-Options', 'nosniff');
  response.flushHeaders();
  await logs.stream(log, request, true, (line) => response.write(`${line}\n`), signal);
  response.end();
}

/**
 * Server-Sent Events: one `data:` per line, then `event: end` once the pod has ended (the job
 * attempt is over). A client that disconnects aborts the Kubernetes stream and gets no `end`.
 */
export async function streamLogEvents(
  response: Response,
  logs: LogsService,
  log: LocatedLog,
  request: LogRequest,
  formatStatus: (status: string) => string = (status) => status,
): Promise<void> {
  const signal = abortOnClose(response);
  log = await logs.untilFollowable(log, signal);
  logHeaders(response, log);
  response.status(200);
  response.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
  response.setHeader('Cache-Control', 'no-cache');
  response.setHeader('X-Accel-Buffering', 'no');
  response.flushHeaders();
  response.write(`: log of job ${log.jobId}, attempt ${log.attempt}\n\n`);
  const end = await logs.stream(
    log,
    request,
    true,
    (line) => response.write(sseData(line)),
    signal,
  );
  if (signal.aborted) return;
  response.write(
    sseEvent('end', {
      job_id: log.jobId,
      attempt: log.attempt,
      status: formatStatus(await logs.statusOf(log)),
      ...(end.reason ? { reason: end.reason } : {}),
    }),
  );
  response.end();
}
