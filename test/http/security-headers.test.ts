import { describe, expect, it } from 'vitest';
import { securityHeaders } from '../../src/http/security-headers.js';

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
});
