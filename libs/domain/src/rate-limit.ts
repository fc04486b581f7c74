/**
 * Token bucket per key: `ratePerSecond` tokens refill continuously up to `burst`. Pure apart
 * from the clock, which callers pass in.
 */
export interface BucketDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Seconds until a token is available (0 when allowed). */
  retryAfterSeconds: number;
  /** Seconds until the bucket is full again. */
  resetSeconds: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();

  constructor(private readonly maxKeys = 100_000) {}

  /** Whether `take` would allow a request now, without taking a token. */
  wouldAllow(key: string, ratePerSecond: number, burst: number, nowMs: number): boolean {
    const bucket = this.buckets.get(key);
    if (!bucket) return true;
    const elapsed = Math.max(0, nowMs - bucket.at) / 1000;
    return Math.min(burst, bucket.tokens + elapsed * ratePerSecond) >= 1;
  }

  take(key: string, ratePerSecond: number, burst: number, nowMs: number): BucketDecision {
    const bucket = this.buckets.get(key) ?? { tokens: burst, at: nowMs };
    const elapsed = Math.max(0, nowMs - bucket.at) / 1000;
    const tokens = Math.min(burst, bucket.tokens + elapsed * ratePerSecond);
    const allowed = tokens >= 1;
    const left = allowed ? tokens - 1 : tokens;
    this.buckets.delete(key);
    this.buckets.set(key, { tokens: left, at: nowMs });
    if (this.buckets.size > this.maxKeys) {
      const oldest = this.buckets.keys().next().value;
      if (oldest !== undefined) this.buckets.delete(oldest);
    }
    return {
      allowed,
      limit: burst,
      remaining: Math.floor(left),
      retryAfterSeconds: allowed ? 0 : Math.ceil((1 - left) / ratePerSecond),
      resetSeconds: Math.ceil((burst - left) / ratePerSecond),
    };
  }
}
