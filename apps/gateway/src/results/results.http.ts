import { pipeline } from 'node:stream/promises';

import { attachmentDisposition } from '@roam/object-store';
import type { Request, Response } from 'express';

import type { ResultsService } from './results.service.js';

/** The `*path` wildcard of a results route, as one relative path. */
export function wildcardPath(request: Request): string {
  const raw = (request.params as Record<string, string | string[] | undefined>).path;
  return Array.isArray(raw) ? raw.join('/') : (raw ?? '');
}

/** Streams one result file, or redirects to its presigned URL (`?redirect=true`). */
export async function sendResultFile(
  service: ResultsService,
  response: Response,
  tenantId: string,
  jobId: string,
  path: string,
  redirect: boolean,
): Promise<void> {
  if (redirect) {
    const url = await service.urlOf(tenantId, jobId, path);
    if (url) {
      response.redirect(302, url);
      return;
    }
  }
  const { row, body } = await service.open(tenantId, jobId, path);
  response.status(200);
  response.setHeader('Content-Type', row.contentType);
  response.setHeader('Content-Length', String(row.size));
  response.setHeader('Digest', `sha-256=${Buffer.from(row.checksum, 'hex').toString('base64')}`);
  response.setHeader('Roam-Checksum-Sha256', row.checksum);
  response.setHeader(
    'Content-Disposition',
    attachmentDisposition(row.path.split('/').pop() ?? row.path),
  );
  await pipeline(body, response);
}

export async function sendResultsZip(
  service: ResultsService,
  response: Response,
  tenantId: string,
  jobId: string,
  replica?: string,
): Promise<void> {
  const zip = await service.zip(tenantId, jobId, replica);
  response.status(200);
  response.setHeader('Content-Type', 'application/zip');
  response.setHeader('Content-Disposition', attachmentDisposition(`results-${jobId}.zip`));
  await pipeline(zip, response);
}
