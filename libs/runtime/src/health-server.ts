import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Logger } from '@nestjs/common';
import { collectDefaultMetrics, Registry } from 'prom-client';

/** A named readiness check: resolves to true when the app can do its work. */
export type ReadinessCheck = () => boolean;
export type StatusReporter = () => Record<string, unknown>;

/**
 * The small listener every app has, for orchestrators and operators:
 * `/healthz` (alive), `/readyz` (ready to work, with details) and `/metrics`.
 */
export class HealthServer {
  private readonly logger = new Logger(HealthServer.name);
  private server: Server | null = null;
  private readonly checks = new Map<string, ReadinessCheck>();
  private readonly dependencies = new Set<string>();
  private readonly reporters: StatusReporter[] = [];
  readonly metrics = new Registry();

  constructor(readonly appName: string) {
    collectDefaultMetrics({ register: this.metrics });
  }

  addCheck(name: string, check: ReadinessCheck): void {
    this.checks.set(name, check);
  }

  /** A readiness check that a dependency (NATS, PostgreSQL) is reachable. */
  addDependency(name: string, check: ReadinessCheck): void {
    this.checks.set(name, check);
    this.dependencies.add(name);
  }

  /** True when every dependency is reachable: a failure then is the work's own, not an outage. */
  dependenciesReachable(): boolean {
    return [...this.dependencies].every((name) => this.checks.get(name)!());
  }

  /** Adds fields to the `/readyz` body (for example the config revision applied). */
  addStatus(reporter: StatusReporter): void {
    this.reporters.push(reporter);
  }

  async listen(port: number, host: string): Promise<number> {
    const server = createServer((request, response) => {
      void this.respond(request.url ?? '/', response);
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    const bound = (server.address() as AddressInfo).port;
    this.logger.log(`health listening on ${host}:${bound}`);
    return bound;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async respond(url: string, response: import('node:http').ServerResponse): Promise<void> {
    const path = url.split('?')[0];
    if (path === '/healthz') {
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ app: this.appName, status: 'alive' }));
      return;
    }
    if (path === '/readyz') {
      const checks = Object.fromEntries([...this.checks].map(([name, check]) => [name, check()]));
      const ready = Object.values(checks).every(Boolean);
      const details = Object.assign({}, ...this.reporters.map((report) => report()));
      response
        .writeHead(ready ? 200 : 503, { 'content-type': 'application/json' })
        .end(JSON.stringify({ app: this.appName, ready, checks, ...details }));
      return;
    }
    if (path === '/metrics') {
      response.writeHead(200, { 'content-type': this.metrics.contentType }).end(await this.metrics.metrics());
      return;
    }
    response.writeHead(404).end();
  }
}
