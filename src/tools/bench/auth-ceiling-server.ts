// The authenticated ceiling: a bare Fastify route that parses the same body, verifies the same ES384 token
// with jose and answers the service's own reply (serialised on every call). No replay memory, no rules.
import Fastify from 'fastify';
import { createLocalJWKSet, type JSONWebKeySet, jwtVerify } from 'jose';

const keys = createLocalJWKSet(JSON.parse(process.env['CEILING_JWKS'] ?? '{}') as JSONWebKeySet);
const issuer = process.env['CEILING_ISS'] ?? '';
const base = process.env['CEILING_BASE_URL'] ?? '';
const answer: unknown = JSON.parse(process.env['CEILING_ANSWER'] ?? '{"cards":[]}');

const app = Fastify({ bodyLimit: 10 * 1024 * 1024 });
app.post<{ Params: { id: string } }>('/cds-services/:id', async (request, reply) => {
  const token = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1] ?? '';
  try {
    await jwtVerify(token, keys, {
      algorithms: ['ES384'],
      issuer,
      audience: `${base}/cds-services/${request.params.id}`,
      requiredClaims: ['exp', 'iat', 'jti'],
    });
  } catch {
    return reply.code(401).send({ message: 'Unauthorized' });
  }
  return answer;
});
app.get('/healthz', async () => ({ status: 'ok' }));
await app.listen({ port: Number(process.env['PORT'] ?? 3998), host: '127.0.0.1' });
// A clean exit on the bench's SIGTERM, so `--cpu-prof` can write its profile.
process.once('SIGTERM', () => {
  void app.close().then(() => process.exit(0));
});
