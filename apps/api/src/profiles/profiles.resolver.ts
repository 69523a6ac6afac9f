import { UseGuards } from '@nestjs/common';
import { Args, Mutation, Resolver } from '@nestjs/graphql';
import { TokenGuard } from '../graphql/token.guard.js';
import { DeleteProfile } from './delete-profile.usecase.js';
import { DeleteProfileArgs, UpsertProfileArgs } from './profile.dto.js';
import { UpsertProfile } from './upsert-profile.usecase.js';

/** The platform's profile lifecycle (docs/profiles.md) through the API: ADMIN tokens, as every mutation. */
@Resolver()
@UseGuards(TokenGuard)
export class ProfilesResolver {
  constructor(
    private readonly upsert: UpsertProfile,
    private readonly remove: DeleteProfile,
  ) {}

  @Mutation(() => Boolean, { description: 'A profile created or changed on the platform, with its complete list of watchlists: what the lifecycle subject es.events.profiles.upserted carries. True once stored.' })
  upsertProfile(@Args() args: UpsertProfileArgs) {
    return this.upsert.execute(args);
  }

  @Mutation(() => Boolean, { description: 'A profile deleted on the platform: events stored from now on lose it as a candidate (docs/profiles.md). True once stored.' })
  deleteProfile(@Args() args: DeleteProfileArgs) {
    return this.remove.execute(args);
  }
}
