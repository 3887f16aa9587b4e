import { describe, it } from 'vitest';
import { GenericContainer, getContainerRuntimeClient, Wait } from 'testcontainers';
import { putResources } from '../../src/tools/sandbox/load-demo.js';
import { defineDemoPatientSuite } from '../integration/demo-patient-suite.js';

/**
 * The same integration suite as test/integration/sandbox.test.ts, against HAPI FHIR (hapiproject/hapi) in a
 * container. Where no container runtime exists it is skipped with the reason; it runs unchanged wherever
 * Docker works (`npm run test:containers`).
 */
const HAPI_IMAGE = 'hapiproject/hapi:v8.4.0-1';

const noRuntime = await getContainerRuntimeClient().then(
  () => undefined,
  (error: unknown) => (error instanceof Error ? error.message : String(error)),
);

if (noRuntime) {
  // The default reporter does not name skipped tests: say why on stderr, which every reporter shows.
  process.stderr.write(`HAPI FHIR container suite skipped: no container runtime (${noRuntime})\n`);
  describe('HAPI FHIR in a container', () => {
    it.skip(`skipped: no container runtime (${noRuntime})`, () => undefined);
  });
} else {
  defineDemoPatientSuite('demo patients against HAPI FHIR (testcontainers)', async () => {
    const container = await new GenericContainer(HAPI_IMAGE)
      .withExposedPorts(8080)
      .withEnvironment({
        'hapi.fhir.allow_external_references': 'true',
        'hapi.fhir.client_id_strategy': 'ANY',
      })
      .withWaitStrategy(Wait.forHttp('/fhir/metadata', 8080).forStatusCode(200).withStartupTimeout(180_000))
      .start();
    const baseUrl = `http://${container.getHost()}:${container.getMappedPort(8080)}/fhir`;
    return {
      baseUrl,
      // HAPI's default image is open; the service still sends the bearer token.
      token: 'hapi-integration-token',
      load: (resources) => putResources(baseUrl, resources),
      close: async () => {
        await container.stop();
      },
    };
  });
}
