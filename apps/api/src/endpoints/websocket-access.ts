import { ArgsType, Field, ID, InputType, Int } from '@nestjs/graphql';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsBoolean, IsInt, IsOptional, Max, Min, ValidateBy, ValidateNested } from 'class-validator';
import { ITEM_CHECK } from '../graphql/input-rules.js';

export const MAX_ALLOWED_ORIGINS = 50;
export const MAX_CONNECTIONS_CAP = 100_000;

/** `scheme://host[:port]` as a browser sends it in `Origin`, lower case, no path. */
function isOrigin(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  try {
    const url = new URL(value);
    return (url.protocol === 'https:' || url.protocol === 'http:') && url.origin === value.toLowerCase().replace(/\/$/, '');
  } catch {
    return false;
  }
}

/** Who may connect to a websocket endpoint (docs/websocket.md: access). */
@InputType()
export class WebSocketAccessInput {
  @Field({ defaultValue: false, description: "Require a connection token: the endpoint's own (rotateWebSocketToken) or an ADMIN or READ_ONLY API token." })
  @IsBoolean()
  requireToken!: boolean;

  @Field(() => [String], { defaultValue: [], description: 'Browser origins (`https://app.example`) allowed to connect; empty: any. Clients that send no Origin (not browsers) are not affected.' })
  @ArrayMaxSize(MAX_ALLOWED_ORIGINS, { message: `must have at most ${MAX_ALLOWED_ORIGINS} values` })
  @ValidateBy({ name: 'isOrigin', validator: { validate: (value: unknown) => isOrigin(value), defaultMessage: () => 'must be an origin: http(s)://host[:port], lower case, no path' } }, { each: true, context: { [ITEM_CHECK]: isOrigin } })
  allowedOrigins!: string[];

  @Field(() => Int, { nullable: true, description: 'At most this many connections to the endpoint on each gateway replica; null: no cap.' })
  @IsOptional()
  @IsInt()
  @Min(1, { message: 'must be at least 1' })
  @Max(MAX_CONNECTIONS_CAP, { message: `must be at most ${MAX_CONNECTIONS_CAP}` })
  maxConnections?: number | null;
}

@ArgsType()
export class SetWebSocketAccessArgs {
  /** Parsed where the endpoint is looked up (parseUuid), as every id argument. */
  @Field(() => ID)
  endpointId!: string;

  @Field(() => WebSocketAccessInput)
  @ValidateNested()
  @Type(() => WebSocketAccessInput)
  access!: WebSocketAccessInput;
}
