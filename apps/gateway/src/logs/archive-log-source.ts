import { Inject, Injectable } from '@nestjs/common';

import { LineSplitter, type LogLine, parseStamped, Tail } from './log-lines.js';
import {
  LOG_ARCHIVE,
  type LogArchiveReader,
  type LogLocation,
  type LogReadOptions,
  type LogSource,
} from './log-source.js';

/** Reads an archived log through the object-store port; `follow` has nothing to wait for. */
@Injectable()
export class ArchiveLogSource implements LogSource<Extract<LogLocation, { kind: 'archive' }>> {
  constructor(@Inject(LOG_ARCHIVE) private readonly archive: LogArchiveReader) {}

  has(storageKey: string): Promise<boolean> {
    return this.archive.has(storageKey);
  }

  async stream(
    location: { storageKey: string },
    options: LogReadOptions,
    onLine: (line: LogLine) => void,
    signal: AbortSignal,
  ): Promise<void> {
    const body = await this.archive.open(location.storageKey, signal);
    const since =
      options.sinceSeconds === undefined ? undefined : Date.now() - options.sinceSeconds * 1000;
    const tail = options.tailLines === undefined ? undefined : new Tail<LogLine>(options.tailLines);
    const emit = (raw: string) => {
      const line = parseStamped(raw);
      if (since !== undefined && line.at && line.at.getTime() < since) return;
      if (tail) tail.push(line);
      else onLine(line);
    };
    const splitter = new LineSplitter();
    const decoder = new TextDecoder();
    try {
      for await (const chunk of body) {
        if (signal.aborted) return;
        const text = typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
        for (const raw of splitter.push(text)) emit(raw);
      }
    } catch (error) {
      // Aborting destroys the body under the loop: the reader is gone or has read enough.
      if (signal.aborted) return;
      throw error;
    }
    if (signal.aborted) return;
    for (const raw of splitter.end()) emit(raw);
    for (const line of tail?.values() ?? []) onLine(line);
  }
}
