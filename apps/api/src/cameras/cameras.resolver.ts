import { Injectable, UseGuards } from '@nestjs/common';
import { Args, ArgsType, Field, GraphQLISODateTime, ID, Mutation, ObjectType, Resolver } from '@nestjs/graphql';
import type { KV } from '@nats-io/kv';
import { idKey } from '@app/events';
import { moveCamera, NatsClient, openCameraBindings } from '@app/messaging';
import { ApiError } from '../graphql/api.error.js';
import { IsId } from '../graphql/input-rules.js';
import { TokenGuard } from '../graphql/token.guard.js';

@ObjectType('CameraBinding', { description: "The agent whose events may name a camera: the first that reported it, or the one an ADMIN moved it to." })
export class CameraBindingModel {
  @Field(() => ID)
  cameraId!: string;

  @Field(() => ID)
  agentId!: string;

  @Field(() => GraphQLISODateTime)
  boundAt!: Date;
}

@ArgsType()
export class MoveCameraArgs {
  @Field(() => ID)
  @IsId()
  cameraId!: string;

  @Field(() => ID, { description: 'The agent the camera belongs to from now on.' })
  @IsId()
  agentId!: string;
}

/**
 * Moves a camera to another agent: ingest owns the camera bindings (their
 * bucket's only writer), so the api sends it a command and waits until the
 * bucket holds the new binding.
 */
@Injectable()
export class MoveCamera {
  /** Opened at first use: ingest creates the bucket, and may not have started yet. */
  private bucket: KV | null = null;

  constructor(private readonly nats: NatsClient) {}

  async execute({ cameraId, agentId }: MoveCameraArgs): Promise<CameraBindingModel> {
    this.bucket ??= await openCameraBindings(this.nats).catch((error: Error) => {
      throw new ApiError('UNAVAILABLE', `the camera bindings cannot be read (has ingest started?): ${error.message}`);
    });
    const binding = await moveCamera(this.nats, this.bucket, { cameraId: idKey(cameraId), agentId: idKey(agentId) });
    if (!binding) throw new ApiError('UNAVAILABLE', 'ingest did not apply the move in time (is an ingest replica running?); retry later');
    return { cameraId: binding.cameraId, agentId: binding.agentId, boundAt: new Date(binding.boundAt) };
  }
}

@Resolver(() => CameraBindingModel)
@UseGuards(TokenGuard)
export class CamerasResolver {
  constructor(private readonly move: MoveCamera) {}

  @Mutation(() => CameraBindingModel, {
    description: "Binds a camera to another agent: that agent's events may name it from now on, and the former agent's are refused (CAMERA_OF_ANOTHER_AGENT).",
  })
  moveCamera(@Args() args: MoveCameraArgs) {
    return this.move.execute(args);
  }
}
