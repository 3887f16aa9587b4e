import { describe, expect, it } from 'vitest';
import { buildTestApp } from './helpers/build-app.js';

describe('the admin port (METRICS_PORT)', () => {
  it('serves /metrics there only, so it need not be public', async () => {
    const app = await buildTestApp({ env: { METRICS_PORT: '0' } });
    try {
      expect((await app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(404);
      const admin = app.adminApp;
      expect(admin).not.toBeNull();
      const metrics = await admin!.inject({ method: 'GET', url: '/metrics' });
      expect(metrics.statusCode).toBe(200);
      expect(metrics.body).toMatch(/^cds_feedback_store_up 1$/m);
      expect(metrics.body).toMatch(/^cds_replay_memory_fallbacks_total 0$/m);
      const unknown = await admin!.inject({
        method: 'GET',
        url: '/cds-services',
        headers: { 'x-request-id': 'scrape-7' },
      });
      expect(unknown.statusCode).toBe(404);
      // The same request id rule as the service port, sent back the same way.
      expect(unknown.headers['x-request-id']).toBe('scrape-7');
      expect(unknown.json<{ requestId: string }>().requestId).toBe('scrape-7');
      expect(metrics.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    } finally {
      await app.close();
    }
  });

  it('leaves /metrics on the service port when unset', async () => {
    const app = await buildTestApp();
    try {
      expect(app.adminApp).toBeNull();
      expect((await app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(200);
    } finally {
      await app.close();
    }
  });
});
