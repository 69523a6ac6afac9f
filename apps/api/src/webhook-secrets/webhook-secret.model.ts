import { Field, GraphQLISODateTime, ObjectType } from '@nestjs/graphql';

@ObjectType('WebhookSecret', { description: "A webhook endpoint's Standard Webhooks signing secrets." })
export class WebhookSecretModel {
  @Field({ description: 'The current secret (whsec_…): every delivery is signed with it.' })
  secret!: string;

  @Field(() => String, { nullable: true, description: 'The secret before the last rotation, still signing until previousSecretExpiresAt.' })
  previousSecret!: string | null;

  @Field(() => GraphQLISODateTime, { nullable: true })
  previousSecretExpiresAt!: Date | null;
}
