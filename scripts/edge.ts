import { z } from 'zod';
import { loadConfig, portVar } from '@app/config';
import { createEdgeProxy } from './edge-proxy.js';

/**
 * The one-origin front for docker-compose (Kubernetes uses its Ingress):
 * forwards each public path to the app that serves it.
 */
const upstream = z.url().transform((url) => new URL(url));
const config = loadConfig(
  z.object({
    EDGE_PORT: portVar(8080),
    API_UPSTREAM: upstream.default(new URL('http://api:8083')),
    INGEST_UPSTREAM: upstream.default(new URL('http://ingest:8081')),
    GATEWAY_UPSTREAM: upstream.default(new URL('http://websocket-gateway:8082')),
  }),
  process.env,
);

createEdgeProxy([
  { prefix: '/event-service/ws', host: config.GATEWAY_UPSTREAM.hostname, port: Number(config.GATEWAY_UPSTREAM.port) },
  { prefix: '/event-service/events', host: config.INGEST_UPSTREAM.hostname, port: Number(config.INGEST_UPSTREAM.port) },
  { prefix: '/', host: config.API_UPSTREAM.hostname, port: Number(config.API_UPSTREAM.port) },
]).listen(config.EDGE_PORT, () => process.stdout.write(`edge listening on port ${config.EDGE_PORT}\n`));
