import type { OpenApiDocument } from './describe-api.js';

const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);

const json = (value: unknown): string => escapeHtml(JSON.stringify(value, null, 2));

interface Described {
  operationId?: string;
  summary?: string;
  description?: string;
  tags?: string[];
  security?: Record<string, string[]>[];
  parameters?: { name: string; in: string; required?: boolean; description?: string }[];
  requestBody?: {
    content?: Record<string, { examples?: Record<string, { summary?: string; value: unknown }> }>;
  };
  responses?: Record<
    string,
    {
      description: string;
      content?: Record<string, { examples?: Record<string, { summary?: string; value: unknown }> }>;
    }
  >;
}

function examplesHtml(
  content: Record<string, { examples?: Record<string, { summary?: string; value: unknown }> }> | undefined,
): string {
  return Object.values(content ?? {})
    .flatMap((media) => Object.entries(media.examples ?? {}))
    .map(
      ([name, example]) =>
        `<details><summary>Example: ${escapeHtml(example.summary ?? name)}</summary><pre>${json(example.value)}</pre></details>`,
    )
    .join('');
}

function operationHtml(method: string, path: string, operation: Described): string {
  const secured = (operation.security ?? []).length > 0;
  const parameters = (operation.parameters ?? [])
    .map(
      (parameter) =>
        `<li><code>${escapeHtml(parameter.name)}</code> (${escapeHtml(parameter.in)}${parameter.required ? ', required' : ''})${parameter.description ? `: ${escapeHtml(parameter.description)}` : ''}</li>`,
    )
    .join('');
  const responses = Object.entries(operation.responses ?? {})
    .map(
      ([status, response]) =>
        `<tr><td><code>${escapeHtml(status)}</code></td><td>${escapeHtml(response.description)}${examplesHtml(response.content)}</td></tr>`,
    )
    .join('');
  return `<section class="operation" id="${escapeHtml(operation.operationId ?? `${method}-${path}`)}">
<h3><span class="method ${escapeHtml(method)}">${escapeHtml(method.toUpperCase())}</span> <code>${escapeHtml(path)}</code> ${escapeHtml(operation.summary ?? '')}</h3>
${operation.description ? `<p>${escapeHtml(operation.description)}</p>` : ''}
<p class="auth">${secured ? 'Authentication: a CDS client JWT as a bearer token.' : 'Open: no authentication.'}</p>
${parameters ? `<h4>Parameters</h4><ul>${parameters}</ul>` : ''}
${operation.requestBody ? `<h4>Request body</h4>${examplesHtml(operation.requestBody.content) || '<p>JSON; see the schema in /openapi.json.</p>'}` : ''}
<h4>Responses</h4><table>${responses}</table>
</section>`;
}

/**
 * The document as one self-contained HTML page: no script, no stylesheet or font from the network, so it
 * works where the service runs behind a firewall. The full schemas are in /openapi.json.
 * @param document - the OpenAPI document
 */
export function renderDocsPage(document: OpenApiDocument): string {
  const info = document.info as { title?: string; version?: string; description?: string };
  const sections = (document.tags ?? [{ name: 'endpoints', description: '' }])
    .map((tag) => {
      const operations = Object.entries(document.paths).flatMap(([path, methods]) =>
        Object.entries(methods as Record<string, Described>)
          .filter(([, operation]) => (operation.tags ?? ['endpoints']).includes(tag.name))
          .map(([method, operation]) => operationHtml(method, path, operation)),
      );
      return operations.length > 0
        ? `<h2>${escapeHtml(tag.name)}</h2><p>${escapeHtml(tag.description)}</p>${operations.join('\n')}`
        : '';
    })
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(info.title ?? 'API')}</title>
<style>
body{font:15px/1.5 system-ui,sans-serif;max-width:960px;margin:2rem auto;padding:0 1rem;color:#1d2430}
h1{margin-bottom:0}h2{border-bottom:2px solid #d0d7de;padding-bottom:.2rem;margin-top:2.5rem}
.operation{border:1px solid #d0d7de;border-radius:6px;padding:0 1rem;margin:1rem 0}
.method{display:inline-block;min-width:3.5rem;text-align:center;border-radius:4px;color:#fff;font-size:.85rem;padding:.1rem .4rem}
.get{background:#1f6feb}.post{background:#1a7f37}.auth{color:#57606a}
table{border-collapse:collapse;width:100%}td{border-top:1px solid #d0d7de;padding:.4rem;vertical-align:top}
pre{background:#f6f8fa;padding:.6rem;overflow:auto;font-size:.8rem;max-height:30rem}code{font-size:.9em}
</style></head><body>
<h1>${escapeHtml(info.title ?? 'API')}</h1><p>Version ${escapeHtml(info.version ?? '')} · <a href="openapi.json">openapi.json</a></p>
${(info.description ?? '')
  .split(/\n\n+/)
  .map((paragraph) => `<p>${escapeHtml(paragraph)}</p>`)
  .join('')}
${sections}
</body></html>
`;
}
