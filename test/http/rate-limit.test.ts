import { describe, expect, it } from 'vitest';
import { buildTestApp } from '../helpers/build-app.js';

describe('rate limiting', () => {
  it('limits a client past the configured rate with a JSON 429, but never the health checks', async () => {
    const app = await buildTestApp({ env: { RATE_LIMIT_MAX: '3', RATE_LIMIT_WINDOW_MS: '60000' } });
    try {
      const statuses = [];
      for (let i = 0; i < 5; i++) {
        statuses.push((await app.inject({ method: 'GET', url: '/cds-services' })).statusCode);
      }
      expect(statuses).toEqual([200, 200, 200, 429, 429]);
      const limited = await app.inject({ method: 'GET', url: '/cds-services' });
      expect(limited.json<{ statusCode: number }>().statusCode).toBe(429);
      expect(limited.headers['retry-after']).toBeDefined();
      expect((await app.inject({ method: 'GET', url: '/no-such-route' })).statusCode).toBe(429);
      for (let i = 0; i < 5; i++) {
        expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
      }
    } finally {
      await app.close();
    }
  });
});
