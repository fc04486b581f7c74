import { randomBytes } from 'node:crypto';

import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';

export const testNatsUrl = (): string => process.env.NATS_URL ?? 'nats://127.0.0.1:4222';

/** A subject prefix of its own for one suite: streams `ROAM_CMD_<PREFIX>`, subjects `<prefix>.roam.…`. */
export function testSubjectPrefix(): string {
  return `t${randomBytes(5).toString('hex')}`;
}

/** Connects to the test NATS or fails with a message that says what to start. */
export async function connectTestNats(): Promise<NatsConnection> {
  const servers = testNatsUrl();
  try {
    return await connect({ servers, name: 'roam-test', timeout: 3000 });
  } catch (error) {
    throw new Error(
      `tests need NATS with JetStream at ${servers} (set NATS_URL, or start nats-server -js): ${String(error)}`,
    );
  }
}

/** Deletes the streams a suite created under its prefix. */
export async function deleteTestStreams(prefix: string): Promise<void> {
  const nc = await connectTestNats();
  try {
    const jsm = await jetstreamManager(nc);
    const suffix = `_${prefix.toUpperCase()}`;
    for await (const info of jsm.streams.list()) {
      if (info.config.name.endsWith(suffix)) await jsm.streams.delete(info.config.name);
    }
  } finally {
    await nc.close();
  }
}
