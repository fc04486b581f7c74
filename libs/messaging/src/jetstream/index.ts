export { JetStreamClient } from './client.js';
export { JetStreamConnection } from './connection.js';
export { JetStreamContext, type JetStreamContextArgs } from './context.js';
export { listDeadLetters, type DeadLetter, type StoredDeadLetter } from './dead-letter.js';
export { checkEnvelope, type EnvelopeCheck } from './envelope.js';
export { JetStreamExceptionFilter } from './exception-filter.js';
export { SubjectMapper, type JetStreamLogger, type JetStreamOptions } from './options.js';
export {
  JetStreamPublisher,
  PublishError,
  type PublishOptions,
  type PublishResult,
} from './publisher.js';
export {
  type ConsumerHealth,
  type ConsumerOptions,
  durableName,
  JETSTREAM_TRANSPORT,
  JetStreamEventPattern,
  JetStreamServer,
  type JetStreamServerStatus,
} from './server.js';
