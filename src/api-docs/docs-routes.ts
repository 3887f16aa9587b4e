import type { FastifyPluginAsyncZod } from '@fastify/type-provider-zod';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { CdsHttpError } from '../errors.js';
import type { OpenApiDocument } from './describe-api.js';
import { renderDocsPage } from './docs-page.js';

/** openapi.yaml at the repository root, beside src/ (and beside dist/ in the image). */
const OPENAPI_FILE = new URL('../../openapi.yaml', import.meta.url);

/** Neither script nor anything from the network: the page is self-contained. */
const DOCS_CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'";

/**
 * Serves the committed openapi.yaml (generated from the routes and drift-checked, so it describes this code)
 * as `/openapi.json` and as a page at `/docs`, with the configured public URL as its server.
 */
export const docsRoutes: FastifyPluginAsyncZod<{ publicBaseUrl: string; file?: URL }> = async (
  app,
  { publicBaseUrl, file = OPENAPI_FILE },
) => {
  let rendered: { json: string; html: string } | null | undefined;
  const load = (): { json: string; html: string } => {
    if (rendered === undefined) {
      try {
        const document = parse(readFileSync(file, 'utf8')) as OpenApiDocument;
        document.servers = [{ url: publicBaseUrl }];
        rendered = { json: JSON.stringify(document), html: renderDocsPage(document) };
      } catch {
        rendered = null;
      }
    }
    if (!rendered) {
      throw new CdsHttpError(404, 'OPENAPI_MISSING', 'openapi.yaml is not part of this installation');
    }
    return rendered;
  };

  app.get(
    '/openapi.json',
    { schema: { tags: ['documentation'], summary: 'This API as OpenAPI 3.1 JSON' } },
    async (_request, reply) => reply.type('application/json; charset=utf-8').send(load().json),
  );
  app.get(
    '/docs',
    { schema: { tags: ['documentation'], summary: 'This API as an HTML page' } },
    async (_request, reply) =>
      reply.type('text/html; charset=utf-8').header('content-security-policy', DOCS_CSP).send(load().html),
  );
};
