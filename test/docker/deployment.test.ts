import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments, parse } from 'yaml';
import { loadConfig } from '../../src/config.js';

const DOCKER = fileURLToPath(new URL('../../docker/', import.meta.url));
const K8S = `${DOCKER}k8s/`;

type Manifest = { kind: string; apiVersion: string; metadata: { name: string }; [key: string]: unknown };
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- manifests are walked loosely, field by field
type Loose = any;

function manifests(): Manifest[] {
  return readdirSync(K8S)
    .filter((file) => file.endsWith('.yaml') && file !== 'kustomization.yaml')
    .flatMap((file) =>
      parseAllDocuments(readFileSync(`${K8S}${file}`, 'utf8')).map((document) => {
        expect(document.errors, file).toEqual([]);
        return document.toJS() as Manifest;
      }),
    );
}

const all = manifests();
const one = (kind: string, name?: string): Loose => {
  const found = all.filter(
    (manifest) => manifest.kind === kind && (!name || manifest.metadata.name === name),
  );
  expect(found, `${kind} ${name ?? ''}`).toHaveLength(1);
  return found[0];
};

describe('docker/k8s', () => {
  it('lists every manifest in the kustomization, and every one parses with a kind and a name', () => {
    const kustomization = parse(readFileSync(`${K8S}kustomization.yaml`, 'utf8')) as { resources: string[] };
    const files = readdirSync(K8S).filter((file) => file.endsWith('.yaml') && file !== 'kustomization.yaml');
    expect([...kustomization.resources].sort()).toEqual(files.sort());
    for (const manifest of all) {
      expect(manifest.kind).toMatch(/^[A-Z]/);
      expect(manifest.apiVersion).toBeTruthy();
      expect(manifest.metadata.name).toBeTruthy();
    }
  });

  const deployment = one('Deployment', 'vitamin-cds');
  const pod = deployment.spec.template.spec;
  const container = pod.containers[0];
  const config = one('ConfigMap', 'vitamin-cds-config').data as Record<string, string>;

  it('runs at least two replicas, with liveness on /healthz and readiness on /readyz', () => {
    expect(deployment.spec.replicas).toBeGreaterThanOrEqual(2);
    expect(deployment.spec.strategy.rollingUpdate.maxUnavailable).toBe(0);
    expect(container.livenessProbe.httpGet.path).toBe('/healthz');
    expect(container.readinessProbe.httpGet.path).toBe('/readyz');
    expect(deployment.spec.selector.matchLabels).toEqual(deployment.spec.template.metadata.labels);
  });

  it('sets resource requests and limits', () => {
    for (const kind of ['requests', 'limits']) {
      expect(container.resources[kind].cpu).toBeTruthy();
      expect(container.resources[kind].memory).toMatch(/^\d+Mi$/);
    }
    const mebibytes = (value: string) => Number(value.replace('Mi', ''));
    expect(mebibytes(container.resources.limits.memory)).toBeGreaterThan(
      mebibytes(container.resources.requests.memory),
    );
  });

  it('drains longer than readiness takes to fail, and is given the time to drain and finish', () => {
    const drainMs = Number(config['SHUTDOWN_DELAY_MS']);
    const probe = container.readinessProbe;
    expect(drainMs).toBeGreaterThanOrEqual(probe.periodSeconds * probe.failureThreshold * 1000 + 2000);
    // The server waits the drain, then up to 10 s for calls in flight.
    expect(pod.terminationGracePeriodSeconds * 1000).toBeGreaterThan(drainMs + 10_000);
  });

  it('takes its configuration from a ConfigMap and its secrets from a Secret, and the service accepts it', () => {
    const sources = container.envFrom as { configMapRef?: { name: string }; secretRef?: { name: string } }[];
    expect(sources.map((source) => source.configMapRef?.name ?? source.secretRef?.name)).toEqual([
      'vitamin-cds-config',
      'vitamin-cds-secrets',
    ]);
    const secret = one('Secret', 'vitamin-cds-secrets').stringData as Record<string, string>;
    for (const name of ['FEEDBACK_HASH_KEY', 'DATABASE_URL', 'REDIS_URL', 'AUTH_ISSUERS']) {
      expect(secret[name], name).toBeTruthy();
      expect(config[name], `${name} must not be in the ConfigMap`).toBeUndefined();
    }
    const loaded = loadConfig({ ...config, ...secret });
    expect(loaded.server.metricsPort).toBe(Number(container.ports[1].containerPort));
    expect(loaded.redis?.url).toBe(secret['REDIS_URL']);
    expect(loaded.feedback.databaseUrl).toBe(secret['DATABASE_URL']);
  });

  it('has a PodDisruptionBudget, a CPU HorizontalPodAutoscaler and a Service for the pods', () => {
    const labels = deployment.spec.template.metadata.labels;
    expect(one('PodDisruptionBudget').spec.selector.matchLabels).toEqual(labels);
    expect(one('PodDisruptionBudget').spec.minAvailable).toBeGreaterThanOrEqual(1);
    const hpa = one('HorizontalPodAutoscaler');
    expect(hpa.spec.scaleTargetRef).toMatchObject({ kind: 'Deployment', name: 'vitamin-cds' });
    expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2);
    expect(hpa.spec.metrics[0].resource.name).toBe('cpu');
    const service = one('Service', 'vitamin-cds');
    expect(service.spec.selector).toEqual(labels);
    expect(service.spec.ports[0].targetPort).toBe('http');
  });

  it('reaches PostgreSQL and Redis as external services', () => {
    expect(one('Service', 'postgres').spec.type).toBe('ExternalName');
    expect(one('Service', 'redis').spec.type).toBe('ExternalName');
  });
});

describe('docker/compose.yaml', () => {
  const compose = parse(readFileSync(`${DOCKER}compose.yaml`, 'utf8'));

  it('runs two replicas sharing PostgreSQL and Redis behind an nginx load balancer', () => {
    const cds = compose.services.cds;
    expect(cds.deploy.replicas).toBe(2);
    expect(cds.ports).toBeUndefined();
    expect(cds.environment.DATABASE_URL).toMatch(/@postgres:5432\//);
    expect(cds.environment.REDIS_URL).toBe('redis://redis:6379');
    expect(compose.services.postgres.image).toMatch(/^postgres:/);
    expect(compose.services.redis.image).toMatch(/^redis:/);
    expect(compose.services.lb.image).toMatch(/^nginx:/);
    expect(readFileSync(`${DOCKER}nginx.conf`, 'utf8')).toMatch(/server cds:3000;/);
    const loaded = loadConfig({
      ...cds.environment,
      AUTH_ISSUERS_FILE: `${DOCKER}issuers.dev.json`,
      HOST: '0.0.0.0',
    });
    expect(loaded.redis?.url).toBe('redis://redis:6379');
    expect(loaded.server.trustProxy).toBe(1);
  });
});
