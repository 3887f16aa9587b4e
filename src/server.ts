import closeWithGrace from 'close-with-grace';
import { pino } from 'pino';
import { buildApp } from './app.js';
import { loadCatalog } from './catalog/load-catalog.js';
import { ConfigError, loadConfig } from './config.js';
import type { HealthState } from './http/health-routes.js';
import { loggerOptions } from './observability/logger.js';

/** How long calls in flight may take to finish once the server closes. */
const IN_FLIGHT_GRACE_MS = 10_000;

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const logger = pino(loggerOptions(config.log.level, config.log.pretty) as pino.LoggerOptions);
  const catalog = await loadCatalog(config.catalog);
  const healthState: HealthState = { closing: false };
  const app = await buildApp({ config, catalog, loggerInstance: logger, healthState });

  const drainMs = config.server.shutdownDelayMs;
  closeWithGrace({ delay: drainMs + IN_FLIGHT_GRACE_MS }, async ({ signal, err }) => {
    healthState.closing = true;
    if (err) {
      // Only what went wrong and where: an error's own fields can hold a database client and its settings.
      app.log.error(
        { err: { type: err.name, message: err.message, stack: err.stack } },
        'closing after an error',
      );
    } else {
      app.log.info({ signal, drainMs }, 'closing');
      if (signal === 'SIGTERM' && drainMs > 0) {
        // An orchestrator's stop: keep answering until the load balancer has seen /readyz fail.
        await new Promise((resolve) => setTimeout(resolve, drainMs));
      }
    }
    await app.close();
  });

  if (!config.auth) {
    app.log.warn(
      'AUTHENTICATION IS OFF: no trusted issuer is configured (AUTH_ISSUERS), so any caller on this machine can call the service. This is allowed only on a loopback address.',
    );
  }
  await app.listen({ port: config.server.port, host: config.server.host });
  if (app.adminApp) {
    // Kept off the public port: Prometheus scrapes it inside the cluster.
    await app.adminApp.listen({ port: config.server.metricsPort ?? 0, host: config.server.host });
  }
  app.log.info(
    { services: [...catalog.services.keys()], publicBaseUrl: config.server.publicBaseUrl },
    `CDS Hooks discovery at ${config.server.publicBaseUrl}/cds-services`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`Failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
