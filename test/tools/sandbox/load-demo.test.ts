import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { waitForFhirServer } from '../../../src/tools/sandbox/load-demo.js';

describe('load-demo waits for the FHIR server', () => {
  it('retries with a progress line while the server boots, then goes on', async () => {
    let calls = 0;
    const server = createServer((request, response) => {
      calls += 1;
      response.writeHead(calls < 3 ? 503 : 200, { 'content-type': 'application/fhir+json' });
      response.end(JSON.stringify({ resourceType: 'CapabilityStatement', url: request.url }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/fhir`;
    const lines: string[] = [];
    try {
      await waitForFhirServer(base, {
        timeoutMs: 10_000,
        intervalMs: 10,
        progress: (line) => lines.push(line),
      });
    } finally {
      server.close();
    }
    expect(calls).toBe(3);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^Waiting for the FHIR server at http:\/\/127\.0\.0\.1:\d+\/fhir: 503/);
  });

  it('gives up after the wait with the last problem, not a stack trace', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    await new Promise((resolve) => server.close(resolve));
    const lines: string[] = [];
    await expect(
      waitForFhirServer(`http://127.0.0.1:${port}/fhir`, {
        timeoutMs: 2000,
        intervalMs: 200,
        progress: (line) => lines.push(line),
      }),
    ).rejects.toThrow(/did not answer in \d+ s \(last try: ECONNREFUSED\)/);
    expect(lines.length).toBeGreaterThan(0);
  });
});
