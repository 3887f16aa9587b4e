// Writes openapi.yaml from the routes' zod schemas; test/openapi.test.ts fails when the two drift apart.
import { writeFile } from 'node:fs/promises';
import { renderOpenApi } from '../openapi.js';

await writeFile(new URL('../../openapi.yaml', import.meta.url), await renderOpenApi());
process.stdout.write('openapi.yaml written\n');
