import { ArgsType, Field, ID, InputType } from '@nestjs/graphql';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsOptional, IsString, MaxLength, ValidateNested } from 'class-validator';
import { IsId } from '../graphql/input-rules.js';

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
