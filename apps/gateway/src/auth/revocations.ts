/** A key stopped working, or a whole tenant did (it is being deleted). */
export type Revocation = { kind: 'key'; keyId: string } | { kind: 'tenant'; tenantId: string };

export type RevocationListener = (revocation: Revocation) => void;

/**
 * Tells code in this process that holds something open for a caller (an SSE stream, a log
 * follow) that the caller's key was revoked or its tenant deleted, so it can close at once
 * instead of at its next authentication. Published after the change committed. Other gateway
 * replicas do not hear it: they stop accepting the key within the key cache's lifetime.
 */
export class Revocations {
  private readonly listeners = new Set<RevocationListener>();

  /** Returns the function that unsubscribes; call it when the stream closes. */
  subscribe(listener: RevocationListener): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  publish(revocation: Revocation): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(revocation);
      } catch {
        // One listener's failure is its own: the revocation has happened regardless.
      }
    }
  }

  get size(): number {
    return this.listeners.size;
  }
}
