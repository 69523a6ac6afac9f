import { UseGuards } from '@nestjs/common';
import { Args, ID, Int, Mutation, Query, Resolver } from '@nestjs/graphql';
import { AdminOnly, TokenGuard } from '../graphql/token.guard.js';
import { ReadWebhookSecret } from './read-webhook-secret.usecase.js';
import { RotateWebhookSecret } from './rotate-webhook-secret.usecase.js';
import { WebhookSecretModel } from './webhook-secret.model.js';

@Resolver(() => WebhookSecretModel)
@UseGuards(TokenGuard)
export class WebhookSecretResolver {
  constructor(
    private readonly read: ReadWebhookSecret,
    private readonly rotate: RotateWebhookSecret,
  ) {}

  @Query(() => WebhookSecretModel, { description: "A webhook endpoint's signing secret, to verify its deliveries (ADMIN tokens only)." })
  @AdminOnly()
  webhookSecret(@Args('endpointId', { type: () => ID }) endpointId: string) {
    return this.read.execute(endpointId);
  }

  @Mutation(() => WebhookSecretModel, { description: 'Replaces the signing secret; during the grace window deliveries carry both signatures.' })
  rotateWebhookSecret(
    @Args('endpointId', { type: () => ID }) endpointId: string,
    @Args('graceSeconds', { type: () => Int, nullable: true, defaultValue: 86_400 }) graceSeconds: number,
  ) {
    return this.rotate.execute(endpointId, graceSeconds);
  }
}
