/**
 * Object-storage settings as the processes read them (the zod schema with defaults and
 * descriptions is `objectStoreEnv` in @roam/config).
 */
export interface ObjectStoreConfig {
  S3_ENDPOINT?: string | undefined;
  S3_REGION: string;
  S3_BUCKET: string;
  S3_ACCESS_KEY: string;
  S3_SECRET_KEY: string;
  S3_PATH_STYLE: boolean;
  S3_PUBLIC_ENDPOINT?: string | undefined;
  /** Idle time after which one S3 request fails. Default 30 s. */
  S3_TIMEOUT_MS?: number | undefined;
  /** Attempts of a repeatable call on a timeout or network error. Default 3. */
  S3_ATTEMPTS?: number | undefined;
}
