import { ProblemError, problemTypes } from '@roam/runtime';
import type { Response } from 'express';

import type { OpenStreams, StreamSlot } from '../events/open-streams.js';
import { sseData, sseEvent } from './log-lines.js';
import { type LocatedLog, type LogRequest, type LogsService } from './logs.service.js';

function logHeaders(response: Response, log: LocatedLog): void {
  response.setHeader('Roam-Log-Source', log.location.kind);
  response.setHeader('Roam-Log-Attempt', String(log.attempt));
  if (log.podName) response.setHeader('Roam-Log-Pod', log.podName);
  if (log.location.kind === 'none') response.setHeader('Roam-Log-Reason', log.location.reason);
}

/**
 * Aborts when the client goes away, so the Kubernetes stream behind it is closed too, or when
 * the stream's slot is closed (its key revoked).
 */
function abortOnClose(response: Response, slot: StreamSlot): AbortSignal {
  const controller = new AbortController();
  response.once('close', () => controller.abort());
  return AbortSignal.any([controller.signal, slot.signal]);
}

/**
 * Runs a long-lived response in a slot of its tenant's allowance of open streams (429 when
 * none is free, before anything is written), given back however the response ends.
 */
export async function inStreamSlot(
  streams: OpenStreams,
  tenantId: string,
  authorization: string | undefined,
  run: (slot: StreamSlot) => Promise<void>,
): Promise<void> {
  const slot = streams.open(tenantId, authorization);
  try {
    await run(slot);
  } finally {
    slot.release();
  }
}

/** A slot closed before the response started: its key no longer authenticates. */
function refuseClosed(slot: StreamSlot): void {
  if (slot.closedBecause === undefined) return;
  throw new ProblemError(401, problemTypes.unauthorized, 'Unauthorized', slot.closedBecause);
}

/** The last line of a plain-text follow its key was revoked under, saying why it ends. */
export const closedLine = (reason: string): string => `[roam] log stream closed: ${reason}\n`;

/** The last event of an SSE stream its key was revoked under. */
export const closedEvent = (reason: string): string =>
  sseEvent('closed', { reason: 'unauthorized', detail: reason });

/** The last line of a read cut at LOGS_MAX_BYTES. */
export const truncatedLine = (max: number): string =>
  `[roam] log cut at ${max} bytes (LOGS_MAX_BYTES); read the rest with tail or since\n`;

/**
 * Plain text, streamed as it is read (headers go with the first line); an empty body carries
 * `Roam-Log-Reason` saying why, a log longer than LOGS_MAX_BYTES ends with a line saying so.
 */
export async function sendLogText(
  response: Response,
  logs: LogsService,
  log: LocatedLog,
  request: LogRequest,
): Promise<void> {
  logs.assertBounded(request);
  const controller = new AbortController();
  response.once('close', () => controller.abort());
  let started = false;
  const start = () => {
    if (started) return;
    started = true;
    logHeaders(response, log);
    response.status(200).type('text/plain; charset=utf-8');
  };
  let end: Awaited<ReturnType<LogsService['readInto']>>;
  try {
    end = await logs.readInto(
      log,
      request,
      (text) => {
        start();
        response.write(text);
      },
      controller.signal,
    );
  } catch (error) {
    // Once lines are out, a problem document cannot follow them: cut the response instead.
    if (!started) throw error;
    response.destroy(error instanceof Error ? error : new Error(String(error)));
    return;
  }
  if (!started) {
    logHeaders(response, log);
    if (end.reason) response.setHeader('Roam-Log-Reason', end.reason);
    response.status(200).type('text/plain; charset=utf-8').send('');
    return;
  }
  if (end.truncated) response.write(truncatedLine(logs.maxReadBytes));
  response.end();
}

/** Chunked text/plain that ends when the pod's container ends (or at once for a finished pod). */
export async function followLogText(
  response: Response,
  logs: LogsService,
  log: LocatedLog,
  request: LogRequest,
  slot: StreamSlot,
): Promise<void> {
  logs.assertBounded(request);
  const signal = abortOnClose(response, slot);
  log = await logs.untilFollowable(log, signal);
  refuseClosed(slot);
  logHeaders(response, log);
  response.status(200);
  response.setHeader('Content-Type', 'text/plain; charset=utf-8');
  response.setHeader('Cache-Control', 'no-cache');
  response.setHeader('X-Content-Type-Options', 'nosniff');
  response.flushHeaders();
  await logs.stream(log, request, true, (line) => response.write(`${line}\n`), signal);
  if (slot.closedBecause !== undefined) response.write(closedLine(slot.closedBecause));
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
  slot: StreamSlot,
  formatStatus: (status: string) => string = (status) => status,
): Promise<void> {
  logs.assertBounded(request);
  const signal = abortOnClose(response, slot);
  log = await logs.untilFollowable(log, signal);
  refuseClosed(slot);
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
  if (slot.closedBecause !== undefined) {
    response.end(closedEvent(slot.closedBecause));
    return;
  }
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
