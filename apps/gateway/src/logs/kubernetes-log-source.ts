import { Writable } from 'node:stream';

import { Injectable } from '@nestjs/common';
import { Kube, KubeError } from '@roam/kube';

import { LineSplitter, type LogLine, parseStamped } from './log-lines.js';
import {
  ContainerNotStarted,
  type LogLocation,
  type LogReadOptions,
  type LogSource,
} from './log-source.js';

type KubernetesLocation = Extract<LogLocation, { kind: 'kubernetes' }>;

/**
 * Reads a live pod's log through the Kubernetes port (read-only: `pods/log`). Always asks for
 * timestamps so `since` can be applied to the instant and `timestamps` honoured either way.
 */
@Injectable()
export class KubernetesLogSource implements LogSource<KubernetesLocation> {
  constructor(private readonly kube: Kube) {}

  async stream(
    location: KubernetesLocation,
    options: LogReadOptions,
    onLine: (line: LogLine) => void,
    signal: AbortSignal,
  ): Promise<void> {
    const splitter = new LineSplitter();
    const decoder = new TextDecoder();
    let finish!: () => void;
    const finished = new Promise<void>((resolve) => (finish = resolve));
    const sink = new Writable({
      write(chunk: Buffer | string, _encoding, done) {
        const text = typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
        for (const raw of splitter.push(text)) onLine(parseStamped(raw));
        done();
      },
      final(done) {
        for (const raw of splitter.end()) onLine(parseStamped(raw));
        done();
      },
    });
    sink.once('finish', finish);
    // client-node pipes the response into the sink; aborting that request (client gone) makes
    // the source emit an AbortError, which must be handled here or it crashes the process.
    sink.once('pipe', (source: NodeJS.ReadableStream) => {
      source.on('error', () => {
        if (!signal.aborted) sink.destroy();
        finish();
      });
    });
    let controller: AbortController;
    try {
      controller = await this.kube.followLogs(
        location.namespace,
        location.pod,
        sink,
        {
          container: location.container,
          tailLines: options.tailLines,
          sinceSeconds: options.sinceSeconds,
          timestamps: true,
        },
        options.follow,
      );
    } catch (error) {
      // The log endpoint answers 400 while the container is still waiting (ContainerCreating,
      // image pull); client-node drops the Status body, so the code is all there is to go on.
      if (error instanceof KubeError && error.status === 400)
        throw new ContainerNotStarted(error.message);
      throw error;
    }
    const aborted = new Promise<void>((resolve) => {
      if (signal.aborted) resolve();
      else signal.addEventListener('abort', () => resolve(), { once: true });
    });
    await Promise.race([finished, aborted]);
    if (signal.aborted) {
      controller.abort();
      sink.destroy();
    }
  }
}
