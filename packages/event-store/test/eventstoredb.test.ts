import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { StartedTestContainer } from 'testcontainers';
import { eventStoreDbBackend } from '../src/eventstoredb';
import { describeConformance } from './conformance';

// Pulling and starting EventStoreDB takes longer than the preset's 30 s.
jest.setTimeout(120_000);

const IMAGE = 'eventstore/eventstore:24.10';
const PORT = 2113;

/**
 * Decided synchronously, before any test is declared, so a machine without Docker or Podman
 * never loads testcontainers: the places testcontainers itself looks for a container engine.
 */
const containerRuntimeAvailable = (): boolean => {
  if (process.env.DOCKER_HOST || process.env.TESTCONTAINERS_DOCKER_SOCKET_OVERRIDE) return true;
  const sockets = ['/var/run/docker.sock', join(homedir(), '.docker', 'run', 'docker.sock'), join(homedir(), '.docker', 'desktop', 'docker.sock')];
  if (process.env.XDG_RUNTIME_DIR) sockets.push(join(process.env.XDG_RUNTIME_DIR, 'docker.sock'));
  if (sockets.some((socket) => existsSync(socket))) return true;
  const properties = join(homedir(), '.testcontainers.properties');
  return existsSync(properties) && /^\s*docker\.host\s*=/m.test(readFileSync(properties, 'utf8'));
};

if (containerRuntimeAvailable()) {
  describe('EventStoreDB (testcontainers)', () => {
    let container: StartedTestContainer | undefined;
    let connectionString = '';

    // Runs before the conformance suite's own beforeAll, which opens the back end.
    beforeAll(async () => {
      const { GenericContainer, Wait } = await import('testcontainers');
      container = await new GenericContainer(IMAGE)
        .withEnvironment({
          EVENTSTORE_INSECURE: 'true',
          EVENTSTORE_RUN_PROJECTIONS: 'None',
          EVENTSTORE_MEM_DB: 'true',
          EVENTSTORE_CLUSTER_SIZE: '1',
          // The contract round-trips a 1 MB event; EventStoreDB's default limit per append is 1 MiB in all.
          EVENTSTORE_MAX_APPEND_SIZE: '8388608',
        })
        .withExposedPorts(PORT)
        .withWaitStrategy(Wait.forHttp('/health/live', PORT).forStatusCode(204))
        .withStartupTimeout(110_000)
        .start();
      connectionString = `esdb://${container.getHost()}:${container.getMappedPort(PORT)}?tls=false`;
    });

    afterAll(async () => {
      await container?.stop();
    });

    describeConformance('EventStoreDB 24.10', () => eventStoreDbBackend({ connectionString }));
  });
} else {
  process.stdout.write(
    'EventStoreDB conformance skipped: no container runtime (no DOCKER_HOST and no /var/run/docker.sock); it runs where Docker or Podman is available.\n',
  );
  describe.skip('EventStoreDB conformance (no container runtime)', () => {
    it('needs Docker or Podman to start EventStoreDB', () => undefined);
  });
}
