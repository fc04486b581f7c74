import http from 'node:http';
import https from 'node:https';

import type { KubeConfig } from '@kubernetes/client-node';

/** What a watch hands each event to: its type, its object, and the whole event. */
export type WatchCallback = (phase: string, object: unknown, watchObject?: unknown) => void;

/** Longest event line a watch accepts (an object is at most ~1.5 MiB in etcd). */
export const WATCH_MAX_LINE_BYTES = 16 * 1024 * 1024;

const NEWLINE = 0x0a;

/**
 * A watch (`GET path?watch=true&resourceVersion=…`) read straight off the socket: lines split on
 * the raw bytes, one `JSON.parse` each. client-node's Watch goes through fetch, a web stream
 * turned back into a node stream, and readline (a regexp over every chunk) before the same
 * parse: most of an informer's CPU. Same call shape as client-node's Watch, so its ListWatch
 * (the list+watch cache the informers are) runs on it unchanged.
 *
 * It asks for bookmarks (the API server then moves the resourceVersion a re-watch starts from
 * even when nothing matching changes). `done` is called once: with nothing when the server ends
 * the stream or drops the connection (or after an ERROR event, which ends a watch), with an error
 * carrying `statusCode` when the server refuses it (410: the resourceVersion expired, so the
 * cache re-lists), with a `TimeoutError` when nothing arrived for `requestTimeoutMs`, or with the
 * socket's error. The returned controller's `abort()` stops it without calling `done`: its
 * owner stopped it and expects nothing more.
 */
export class JsonWatch {
  /** Inactivity bound: nothing received (not even a bookmark) for this long ends the watch. */
  requestTimeoutMs = 30_000;

  constructor(
    readonly config: KubeConfig,
    private readonly agent = 'roam',
  ) {}

  async watch(
    path: string,
    params: Record<string, string | number | boolean | undefined>,
    callback: WatchCallback,
    done: (error: unknown) => void,
  ): Promise<AbortController> {
    const cluster = this.config.getCurrentCluster();
    if (!cluster) throw new Error('No currently active cluster');
    const url = new URL(`${cluster.server.replace(/\/+$/, '')}${path}`);
    url.searchParams.set('watch', 'true');
    url.searchParams.set('allowWatchBookmarks', 'true');
    for (const [key, value] of Object.entries(params))
      if (value !== undefined) url.searchParams.set(key, String(value));
    const options: https.RequestOptions = {
      method: 'GET',
      headers: { 'user-agent': this.agent, accept: 'application/json' },
    };
    await this.config.applyToHTTPSOptions(options);

    const controller = new AbortController();
    let finished = false;
    // `ended`: the answer was read to its end, so its connection may serve another request.
    const finish = (error: unknown, ended = false) => {
      if (finished) return;
      finished = true;
      if (!ended) request.destroy();
      done(error);
    };

    const timeoutMs = this.requestTimeoutMs;
    const request = (url.protocol === 'https:' ? https : http).request(url, options, (response) => {
      const status = response.statusCode ?? 500;
      if (status !== 200) {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          // A refusal's body is a Status: keep what a message needs, not an unbounded body.
          if (size < 64 * 1024) chunks.push(chunk);
          size += chunk.length;
        });
        response.on('error', finish);
        response.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          let message = http.STATUS_CODES[status] ?? 'watch refused';
          try {
            message = (JSON.parse(body) as { message?: string }).message ?? message;
          } catch {
            // Not a Status: the status line says it.
          }
          finish(Object.assign(new Error(message), { statusCode: status, body }), true);
        });
        return;
      }
      // Bytes of a line that has not ended yet (a line may span any number of chunks).
      let pending: Buffer[] = [];
      let pendingBytes = 0;
      const line = (text: string) => {
        let event: { type?: unknown; object?: unknown };
        try {
          event = JSON.parse(text) as typeof event;
        } catch {
          return; // Not an event (an empty line): ignored, as client-node's watch does.
        }
        if (typeof event?.type !== 'string') return;
        try {
          callback(event.type, event.object, event);
        } catch (error) {
          // A throwing handler ends this watch (the informer lists again), not the process.
          finish(error instanceof Error ? error : new Error(String(error)));
          return;
        }
        // An ERROR event (410 Gone, …) is the last of a watch: the server closes it next.
        if (event.type === 'ERROR') finish(null);
      };
      response.on('data', (chunk: Buffer) => {
        let start = 0;
        let end = chunk.indexOf(NEWLINE);
        while (end !== -1 && !finished) {
          if (pendingBytes) {
            pending.push(chunk.subarray(start, end));
            line(Buffer.concat(pending, pendingBytes + end - start).toString('utf8'));
            pending = [];
            pendingBytes = 0;
          } else if (end > start) line(chunk.toString('utf8', start, end));
          start = end + 1;
          end = chunk.indexOf(NEWLINE, start);
        }
        if (finished || start >= chunk.length) return;
        pendingBytes += chunk.length - start;
        if (pendingBytes > WATCH_MAX_LINE_BYTES) {
          finish(new Error(`watch ${path}: an event longer than ${WATCH_MAX_LINE_BYTES} bytes`));
          return;
        }
        pending.push(start ? chunk.subarray(start) : chunk);
      });
      response.on('error', finish);
      // Ended by the server (its own timeout, a restart): re-watched from the last version.
      response.on('end', () => finish(null, true));
      // Closed without an end: the connection dropped mid-stream.
      response.on('close', () => finish(null));
    });
    request.on('error', finish);
    // Socket inactivity, before the headers and after alike; bookmarks keep a quiet watch alive.
    request.setTimeout(timeoutMs, () =>
      finish(
        new DOMException(`watch ${path}: nothing received for ${timeoutMs} ms`, 'TimeoutError'),
      ),
    );
    request.end();
    // Stopped by its owner: nothing to report.
    controller.signal.addEventListener(
      'abort',
      () => {
        finished = true;
        request.destroy();
      },
      { once: true },
    );
    return controller;
  }
}
