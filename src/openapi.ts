import { readdirSync, readFileSync } from 'node:fs';
import { stringify } from 'yaml';
import { describeApi, type HookExample, type OpenApiDocument } from './api-docs/describe-api.js';
import { buildApp } from './app.js';
import { loadCatalog } from './catalog/load-catalog.js';
import { loadConfig } from './config.js';

const EXAMPLES = new URL('../cds-hooks/examples/', import.meta.url);
/** The day the example requests are written for, so the generated responses do not age with the calendar. */
const EXAMPLES_DAY = new Date('2026-11-22T12:00:00Z');

/**
 * The OpenAPI document of the service with its default configuration, as YAML: the routes' zod schemas,
 * completed by describeApi, with the response each example request in cds-hooks/examples/ gets.
 */
export async function renderOpenApi(): Promise<string> {
  const config = loadConfig({
    LOG_LEVEL: 'silent',
    FEEDBACK_SQLITE_FILE: ':memory:',
    // Fixed, so the cards' uuids in the examples (which depend on the patient's keyed hash) stay the same.
    FEEDBACK_HASH_KEY: 'openapi-examples-only-not-a-secret-0000',
  });
  const app = await buildApp({ config, catalog: await loadCatalog(config.catalog), now: () => EXAMPLES_DAY });
  await app.ready();
  const examples: HookExample[] = [];
  const files = readdirSync(EXAMPLES).filter((file) => /^[a-z0-9-]+\.[a-z-]+\.json$/.test(file));
  for (const file of files.sort()) {
    const [serviceId = '', hook = ''] = file.split('.');
    const request = JSON.parse(readFileSync(new URL(file, EXAMPLES), 'utf8')) as unknown;
    const response = await app.inject({
      method: 'POST',
      url: `/cds-services/${serviceId}`,
      payload: request as object,
    });
    if (response.statusCode !== 200) {
      throw new Error(`cds-hooks/examples/${file} answered ${response.statusCode}: ${response.body}`);
    }
    examples.push({ serviceId, hook, request, response: response.json() });
  }
  const document = describeApi(app.swagger() as unknown as OpenApiDocument, examples);
  await app.close();
  return stringify(document, { lineWidth: 0, aliasDuplicateObjects: false });
}
