import { Injectable, UseGuards } from '@nestjs/common';
import { Args, ArgsType, Field, ID, InputType, Mutation, Resolver } from '@nestjs/graphql';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsOptional, IsString, MaxLength, ValidateNested } from 'class-validator';
import { NatsClient } from '@app/messaging';
import { IsId } from '../graphql/input-rules.js';
import { TokenGuard } from '../graphql/token.guard.js';

/** At most this many watchlists per profile. */
const MAX_PROFILE_GROUPS = 1_000;

@InputType('ProfileGroupInput', { description: 'A watchlist a profile is on.' })
export class ProfileGroupInput {
  @Field(() => ID)
  @IsId()
  id!: string;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  color?: string | null;
}

@ArgsType()
export class UpsertProfileArgs {
  @Field(() => ID)
  @IsId()
  id!: string;

  @Field(() => [ProfileGroupInput], { description: 'Its complete current list of watchlists (profile groups).' })
  @ArrayMaxSize(MAX_PROFILE_GROUPS)
  @ValidateNested({ each: true })
  @Type(() => ProfileGroupInput)
  profileGroups!: ProfileGroupInput[];
}

@ArgsType()
export class DeleteProfileArgs {
  @Field(() => ID)
  @IsId()
  id!: string;
}

/**
 * The platform's profile lifecycle (docs/profiles.md) for platforms without a
 * NATS client: published on the lifecycle subjects exactly as the platform's
 * own messages, and answered once the events stream has stored it.
 */
@Injectable()
export class PublishProfileChange {
  private readonly encoder = new TextEncoder();

  constructor(private readonly nats: NatsClient) {}

  async upserted({ id, profileGroups }: UpsertProfileArgs): Promise<boolean> {
    const body = { id, profile_groups: profileGroups.map((group) => ({ id: group.id, color: group.color ?? null })) };
    await this.nats.jetstream.publish(this.nats.topology.profileUpserted, this.encoder.encode(JSON.stringify(body)));
    return true;
  }

  async deleted({ id }: DeleteProfileArgs): Promise<boolean> {
    await this.nats.jetstream.publish(this.nats.topology.profileDeleted, this.encoder.encode(JSON.stringify({ id })));
    return true;
  }
}

@Resolver()
@UseGuards(TokenGuard)
export class ProfilesResolver {
  constructor(private readonly publish: PublishProfileChange) {}

  @Mutation(() => Boolean, { description: "A profile created or changed on the platform, with its complete list of watchlists: what the lifecycle subject es.events.profiles.upserted carries. True once stored." })
  upsertProfile(@Args() args: UpsertProfileArgs) {
    return this.publish.upserted(args);
  }

  @Mutation(() => Boolean, { description: 'A profile deleted on the platform: events stored from now on lose it as a candidate (docs/profiles.md). True once stored.' })
  deleteProfile(@Args() args: DeleteProfileArgs) {
    return this.publish.deleted(args);
  }
}
