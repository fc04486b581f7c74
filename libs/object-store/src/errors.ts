/** The object (or its bucket) does not exist. */
export class ObjectNotFound extends Error {
  constructor(readonly key: string) {
    super(`object ${key} not found`);
    this.name = 'ObjectNotFound';
  }
}

/** An S3 request that sent or received nothing within the configured time. */
export class ObjectStoreTimeout extends Error {
  constructor(
    readonly what: string,
    readonly timeoutMs: number,
  ) {
    super(`object store ${what}: no answer within ${timeoutMs} ms`);
    this.name = 'ObjectStoreTimeout';
  }
}
