// The ceiling for the benchmark: a bare Fastify route that parses the same body and returns a fixed card.
import Fastify from 'fastify';

const card = {
  cards: [
    {
      uuid: '3f1d8c52-8f7e-4c1a-9a57-6f4a3c1b2e90',
      summary: 'Chronic low back pain with vitamin D deficiency (14 ng/mL, 2026-10-01): consider repletion',
      indicator: 'warning',
      source: { label: 'Vitamin D in chronic back or neck pain' },
    },
  ],
};
const app = Fastify({ bodyLimit: 10 * 1024 * 1024 });
app.post('/cds-services/:id', async () => card);
app.get('/healthz', async () => ({ status: 'ok' }));
await app.listen({ port: Number(process.env['PORT'] ?? 3999), host: '127.0.0.1' });
