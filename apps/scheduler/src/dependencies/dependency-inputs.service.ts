import { Inject, Injectable } from '@nestjs/common';
import { dependencyInputsKey, type ObjectStore } from '@roam/object-store';
import { APP_CONFIG } from '@roam/runtime';

import type { SchedulerConfig } from '../scheduler.config.js';
import {
  type DependencyResultFile,
  DependencyInputsRepository,
} from './dependency-inputs.repository.js';

/** What the `roam-deps` fetcher of one attempt gets: the manifest's URL, or why it must fail. */
export type DependencyInputs = { manifestUrl: string } | { error: string };

const MB = 1024n * 1024n;

/** One manifest line: the presigned GET, then the path under `inputs/deps/` (may hold spaces). */
const manifestLine = (url: string, file: DependencyResultFile): string =>
  `${url} ${file.target}/${file.index === null ? '' : `${file.index}/`}${file.path}\n`;

/**
 * `inputs_from_dependencies`: lists the result files of a job's dependencies, presigns a GET
 * for each (INPUTS_URL_TTL_SECONDS, like the input archive) and writes them as one manifest
 * object the attempt's `roam-deps` fetcher reads, so the Job's spec stays small whatever the
 * count. Bounded by DEPENDENCY_INPUTS_MAX_FILES and DEPENDENCY_INPUTS_MAX_MB: past either the
 * fetcher fails the attempt and its log says which. Only jobs that ask pay for it.
 */
@Injectable()
export class DependencyInputsService {
  constructor(
    private readonly repository: DependencyInputsRepository,
    @Inject(APP_CONFIG) private readonly config: SchedulerConfig,
  ) {}

  /**
   * The attempt's dependency inputs; undefined while a dependency that ended still has results
   * the storage worker has not collected (the job's Job is then created on a later offer).
   */
  async prepare(
    store: ObjectStore,
    job: { id: string; tenantId: string; attempt: number },
  ): Promise<DependencyInputs | undefined> {
    const { DEPENDENCY_INPUTS_MAX_FILES: maxFiles, DEPENDENCY_INPUTS_MAX_MB: maxMb } = this.config;
    const summary = await this.repository.summary(job.id, job.tenantId);
    if (summary.unstored > 0) return undefined;
    if (summary.files > maxFiles)
      return {
        error: `the dependencies have ${summary.files} result files, more than DEPENDENCY_INPUTS_MAX_FILES (${maxFiles})`,
      };
    if (summary.bytes > BigInt(maxMb) * MB)
      return {
        error: `the dependencies' results are ${summary.bytes} bytes, more than DEPENDENCY_INPUTS_MAX_MB (${maxMb} MB)`,
      };
    const ttl = this.config.INPUTS_URL_TTL_SECONDS;
    const files = await this.repository.files(job.id, job.tenantId, maxFiles);
    const lines: string[] = [];
    for (const file of files) {
      const url = await store.presignGet(file.storageKey, ttl);
      if (url) lines.push(manifestLine(url, file));
    }
    const body = Buffer.from(lines.join(''));
    const key = dependencyInputsKey(job.tenantId, job.id, job.attempt);
    await store.put(key, body, body.length, 'text/plain');
    const manifestUrl = await store.presignGet(key, ttl);
    if (!manifestUrl) return { error: 'the object store gives no URL for the dependency inputs' };
    return { manifestUrl };
  }
}
