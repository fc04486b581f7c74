// The launcher's object storage as a child process: `node apps/stack/dist/s3-server.js`, an
// s3rver on S3RVER_PORT keeping objects under S3RVER_DIR. Its own process so its CPU shows
// separately and a burst of uploads does not slow the launcher's log relay.
import { startS3rver } from '@roam/object-store';
import { z } from 'zod';

const env = z
  .object({
    S3RVER_DIR: z.string().min(1),
    S3RVER_PORT: z.coerce.number().int().min(0).max(65535),
    S3RVER_HOST: z.string().min(1).default('127.0.0.1'),
  })
  .safeParse(process.env);
if (!env.success) {
  process.stderr.write(`invalid s3 server configuration: ${env.error.message}\n`);
  process.exit(2);
}

const server = await startS3rver({
  directory: env.data.S3RVER_DIR,
  port: env.data.S3RVER_PORT,
  host: env.data.S3RVER_HOST,
});
process.stdout.write(`s3rver (object storage) listening on ${server.endpoint}\n`);

let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  server.close().then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`s3rver shutdown failed: ${String(err)}\n`);
      process.exit(1);
    },
  );
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
