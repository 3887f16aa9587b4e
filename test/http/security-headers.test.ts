import { describe, expect, it } from 'vitest';
import { securityHeaders } from '../../src/http/security-headers.js';
import { buildTestApp } from '../helpers/build-app.js';

describe('securityHeaders', () => {
  it("holds helmet's headers for a JSON API read cross-origin, without a Content-Security-Policy", () => {
    const headers = securityHeaders();
    expect(headers).toMatchObject({
      'x-content-type-options': 'nosniff',
      'strict-transport-security': 'max-age=31536000; includeSubDomains',
      'x-frame-options': 'SAMEORIGIN',
      'referrer-policy': 'no-referrer',
      'cross-origin-resource-policy': 'cross-origin',
    });
    expect(headers['content-security-policy']).toBeUndefined();
    // Names as Fastify keeps them, so a route's own header of the same name replaces rather than doubles it.
    expect(Object.keys(headers).every((name) => name === name.toLowerCase())).toBe(true);
  });

  it('are sent on refusals that happen before the route runs: 401 without a token, 413 over the body limit', async () => {
    const issuers = JSON.stringify([
      { iss: 'https://ehr.example.org', jwksUrl: 'https://ehr.example.org/jwks' },
    ]);
    const authenticated = await buildTestApp({ env: { AUTH_ISSUERS: issuers } });
    const small = await buildTestApp({ env: { BODY_LIMIT_BYTES: '100' } });
    try {
      const responses = [
        await authenticated.inject({ method: 'POST', url: '/cds-services/vitamin-d-back-pain', payload: {} }),
        await small.inject({
          method: 'POST',
          url: '/cds-services/vitamin-d-back-pain',
          payload: { padding: 'x'.repeat(500) },
        }),
      ];
      expect(responses.map((response) => response.statusCode)).toEqual([401, 413]);
      for (const response of responses) {
        expect(response.headers).toMatchObject(securityHeaders());
      }
    } finally {
      await authenticated.close();
      await small.close();
    }
  });
});
