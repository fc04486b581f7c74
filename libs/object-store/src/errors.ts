/** The object (or its bucket) does not exist. */
export class ObjectNotFound extends Error {
  constructor(readonly key: string) {
    super(`object ${key} not found`);
    this.name = 'ObjectNotFound';
  }
}
