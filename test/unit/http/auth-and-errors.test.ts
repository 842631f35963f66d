// Proves how claims become a principal (audience, Cognito groups, partner ids) and how errors
// become HTTP responses (4xx explain, 5xx hide internals), without I/O.
import { describe, expect, it } from 'vitest';
import {
  ConflictError,
  ForbiddenError,
  NotFoundError,
  UnauthorizedError,
  ValidationFailedError,
} from '../../../lib/app/errors';
import { InvalidInputError } from '../../../lib/domain/errors';
import { principalFrom } from '../../../lib/http/auth';
import { httpErrorFor } from '../../../lib/http/errors';
import { loadConfig } from '../../../lib/runtime/config';
import {
  ConditionFailedError,
  InvalidCursorError,
  StoreContentionError,
  StoreUnavailableError,
} from '../../../lib/store/errors';

describe('principalFrom', () => {
  it('reads roles from `roles` or Cognito groups and ignores unknown roles', () => {
    expect(
      principalFrom({ sub: 'a', iss: 'i', aud: 'api', roles: ['seller', 'wizard'] }, 'api').roles,
    ).toEqual(['seller']);
    expect(
      principalFrom({ sub: 'a', iss: 'i', aud: ['x', 'api'], 'cognito:groups': ['finance'] }, 'api')
        .roles,
    ).toEqual(['finance']);
  });

  it('accepts a Cognito access token by client_id when it has no aud', () => {
    expect(
      principalFrom({ sub: 'a', iss: 'i', client_id: 'api', 'cognito:groups': ['admin'] }, 'api')
        .roles,
    ).toEqual(['admin']);
    expect(() => principalFrom({ sub: 'a', iss: 'i', client_id: 'other' }, 'api')).toThrow(
      UnauthorizedError,
    );
    expect(() => principalFrom({ sub: 'a', iss: 'i', aud: 'other' }, 'api')).toThrow(/aud/);
  });

  it('requires a partner id on partner tokens', () => {
    expect(() =>
      principalFrom({ sub: 'p', iss: 'i', aud: 'api', roles: ['partner'] }, 'api'),
    ).toThrow(/partner_id/);
    expect(
      principalFrom(
        { sub: 'p', iss: 'i', aud: 'api', roles: ['partner'], 'custom:partner_id': 'P-1' },
        'api',
      ).partnerId,
    ).toBe('P-1');
  });
});

describe('httpErrorFor', () => {
  it.each([
    [
      new ValidationFailedError('bad', [{ path: 'body.x', code: 'c', message: 'm' }]),
      400,
      'validation_failed',
    ],
    [new InvalidInputError('unknown_currency', 'bad currency'), 400, 'unknown_currency'],
    [new InvalidCursorError('bad cursor'), 400, 'invalid_cursor'],
    [new UnauthorizedError('no'), 401, 'unauthorized'],
    [new ForbiddenError('no'), 403, 'forbidden'],
    [new NotFoundError('no'), 404, 'not_found'],
    [new ConflictError('offer_moved', 'no'), 409, 'offer_moved'],
    [new ConditionFailedError('c', []), 409, 'condition_failed'],
    [new StoreContentionError('busy'), 503, 'service_unavailable'],
    [new StoreUnavailableError('down: table agora-prod'), 503, 'service_unavailable'],
    [new Error('boom: secret'), 500, 'internal_error'],
  ])('%s → %i %s', (error, status, code) => {
    const mapped = httpErrorFor(error, 'rid');
    expect(mapped.status).toBe(status);
    expect(mapped.body.error.code).toBe(code);
    expect(mapped.body.error.requestId).toBe('rid');
    if (status >= 500) {
      expect(mapped.expose).toBe(false);
      expect(JSON.stringify(mapped.body)).not.toMatch(/secret|agora-prod/);
    }
  });

  it('keeps every validation detail', () => {
    const details = [
      { path: 'body.a', code: 'x', message: 'm' },
      { path: 'query.b', code: 'y', message: 'n' },
    ];
    expect(httpErrorFor(new ValidationFailedError('bad', details), 'r').body.error.details).toEqual(
      details,
    );
  });
});

describe('loadConfig', () => {
  const base = {
    AGORA_TABLE_NAME: 'agora',
    AGORA_JWT_ISSUER: 'https://issuer',
    AGORA_JWT_AUDIENCE: 'api',
    AGORA_JWKS_URL: 'https://issuer/jwks.json',
  };

  it('applies defaults', () => {
    expect(loadConfig(base)).toMatchObject({
      AGORA_STAGE: 'aws',
      AWS_REGION: 'us-east-1',
      AGORA_IDEMPOTENCY_TTL_HOURS: 24,
    });
  });

  it('fails with one line naming the variable', () => {
    expect(() => loadConfig({ ...base, AGORA_JWKS_URL: 'not a url' })).toThrow(
      /^Configuration error: AGORA_JWKS_URL is invalid/,
    );
    const { AGORA_TABLE_NAME: _dropped, ...missing } = base;
    expect(() => loadConfig(missing)).toThrow('Configuration error: AGORA_TABLE_NAME is not set');
  });
});
