import { Inject, Injectable } from '@nestjs/common';
import type { GatewayConfig } from '@roam/config';
import { hashApiKey, looksLikeApiKey, secretsEqual } from '@roam/domain';
import { APP_CONFIG, ProblemError, problemTypes } from '@roam/runtime';

import { ApiKeysRepository } from './api-keys.repository.js';
import type { Principal } from './principal.js';

const CHALLENGE = 'Bearer realm="roam"';

export function unauthorized(detail: string, invalidToken: boolean): ProblemError {
  return new ProblemError(
    401,
    problemTypes.unauthorized,
    'Unauthorized',
    detail,
    {},
    {
      'WWW-Authenticate': invalidToken ? `${CHALLENGE}, error="invalid_token"` : CHALLENGE,
    },
  );
}

@Injectable()
export class AuthService {
  constructor(
    private readonly keys: ApiKeysRepository,
    @Inject(APP_CONFIG) private readonly config: GatewayConfig,
  ) {}

  /** The caller named by an `Authorization` header, or undefined when there is none. Throws 401 on a bad one. */
  async authenticate(authorization: string | undefined): Promise<Principal | undefined> {
    if (authorization === undefined || authorization === '') return undefined;
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!match) throw unauthorized('the Authorization header must be "Bearer <API key>"', true);
    const token = match[1]!;
    const adminToken = this.config.ROAM_ADMIN_TOKEN;
    if (adminToken !== undefined && secretsEqual(token, adminToken))
      return { kind: 'admin', keyId: null };
    if (!looksLikeApiKey(token)) throw unauthorized('invalid API key', true);
    const key = await this.keys.findActive(hashApiKey(token));
    if (!key) throw unauthorized('invalid or revoked API key', true);
    this.keys.markUsed(key.id);
    if (key.role === 'admin') return { kind: 'admin', keyId: key.id };
    if (!key.tenantId || key.tenantStatus === 'deleting')
      throw unauthorized('the tenant of this key is being deleted', true);
    return {
      kind: 'tenant',
      tenantId: key.tenantId,
      keyId: key.id,
      rateLimitPerSecond: key.rateLimitPerSecond,
    };
  }
}
