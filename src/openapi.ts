import { buildApp } from './app.js';
import { loadCatalog } from './catalog/load-catalog.js';
import { loadConfig } from './config.js';

/** The OpenAPI document of the service with its default configuration, as YAML. */
export async function renderOpenApi(): Promise<string> {
  const config = loadConfig({ LOG_LEVEL: 'silent', FEEDBACK_SQLITE_FILE: ':memory:' });
  const app = await buildApp({ config, catalog: await loadCatalog(config.catalog) });
  await app.ready();
  const yaml = app.swagger({ yaml: true });
  await app.close();
  return yaml;
}
