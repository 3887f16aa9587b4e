import { describe, expect, it } from 'vitest';
import { buildTestApp } from '../helpers/build-app.js';

describe('hook metrics', () => {
  it('time every service call by service, hook and status, with unknown values folded', async () => {
    const app = await buildTestApp();
    try {
      const body = { hook: 'patient-view', hookInstance: 'h-1', context: {} };
      expect(
        (await app.inject({ method: 'POST', url: '/cds-services/vitamin-d-back-pain', payload: body }))
          .statusCode,
      ).toBe(400);
      await app.inject({
        method: 'POST',
        url: '/cds-services/no-such-service-<script>',
        payload: { ...body, hook: 'x'.repeat(50) },
      });
      await app.inject({ method: 'GET', url: '/cds-services' });
      const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body;
      expect(metrics).toContain(
        'cds_hook_duration_seconds_count{service="vitamin-d-back-pain",hook="patient-view",status="400"} 1',
      );
      expect(metrics).toContain(
        'cds_hook_duration_seconds_count{service="unknown",hook="other",status="404"} 1',
      );
      expect(metrics).not.toContain('no-such-service');
      expect(metrics.match(/^cds_hook_duration_seconds_count/gm)).toHaveLength(2);
    } finally {
      await app.close();
    }
  });
});
