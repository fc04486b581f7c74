import { mkdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';

import S3rver from 's3rver';

export interface RunningS3rver {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  port: number;
  close(): Promise<void>;
}

/**
 * s3rver (an S3-speaking server on the local disk) for development and tests. It never checks
 * signatures; any access key works. Objects live under `directory`.
 */
export async function startS3rver(options: {
  directory: string;
  port?: number;
  host?: string;
}): Promise<RunningS3rver> {
  await mkdir(options.directory, { recursive: true });
  const host = options.host ?? '127.0.0.1';
  const server = new S3rver({
    address: host,
    port: options.port ?? 0,
    directory: options.directory,
    silent: true,
    vhostBuckets: false,
  });
  // `silent` only mutes the output: s3rver's koa-logger still formats two coloured lines per
  // request and hands them to a muted logger. Nothing reads them, so the middleware goes.
  const logger = server.middleware.findIndex((middleware) => middleware.name === 'logger');
  if (logger >= 0) server.middleware.splice(logger, 1);
  const address = (await server.run()) as AddressInfo;
  return {
    endpoint: `http://${host}:${address.port}`,
    port: address.port,
    close: () => server.close(),
  };
}
