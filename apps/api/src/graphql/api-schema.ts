import { NestFactory } from '@nestjs/core';
import { GraphQLSchemaBuilderModule, GraphQLSchemaFactory } from '@nestjs/graphql';
import { lexicographicSortSchema, printSchema } from 'graphql';
import { AgentsResolver } from '../agents/agents.resolver.js';
import { ApiTokensResolver } from '../api-tokens/api-tokens.resolver.js';
import { CamerasResolver } from '../cameras/cameras.resolver.js';
import { DeadLettersResolver } from '../dead-letters/dead-letters.resolver.js';
import { DeliveriesResolver } from '../deliveries/deliveries.resolver.js';
import { EndpointsResolver } from '../endpoints/endpoints.resolver.js';
import { EventFiltersResolver } from '../event-filters/event-filters.resolver.js';
import { LostEventsResolver } from '../lost-events/lost-events.resolver.js';
import { ConsumerLagResolver } from '../operations/consumer-lag.resolver.js';
import { ProfilesResolver } from '../profiles/profiles.resolver.js';
import { ReplayJobsResolver } from '../replays/replays.resolver.js';
import { WebhookSecretResolver } from '../webhook-secrets/webhook-secret.resolver.js';

/** Every resolver of the API: the schema is built from these, by the server and by `printApiSchema`. */
export const API_RESOLVERS = [AgentsResolver, EndpointsResolver, EventFiltersResolver, DeliveriesResolver, LostEventsResolver, WebhookSecretResolver, ApiTokensResolver, CamerasResolver, ProfilesResolver, ConsumerLagResolver, DeadLettersResolver, ReplayJobsResolver];

/**
 * The API's schema in SDL, sorted as the server serves it, without starting
 * the server (no NATS, no PostgreSQL): what `npm run schema` writes to
 * `apps/api/schema.graphql`, and what a test compares that file with.
 */
export async function printApiSchema(): Promise<string> {
  const app = await NestFactory.createApplicationContext(GraphQLSchemaBuilderModule, { logger: false });
  try {
    const schema = await app.get(GraphQLSchemaFactory).create(API_RESOLVERS);
    return printSchema(lexicographicSortSchema(schema)) + '\n';
  } finally {
    await app.close();
  }
}
