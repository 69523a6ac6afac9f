import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { NatsClient } from '@app/messaging';
import type { DeleteProfileArgs } from './profile.dto.js';

/** A profile deleted, for platforms without a NATS client: the lifecycle message (docs/profiles.md), answered once stored. */
@Injectable()
export class DeleteProfile {
  constructor(private readonly nats: NatsClient) {}

  async execute({ id }: DeleteProfileArgs): Promise<boolean> {
    await this.nats.jetstream.publish(this.nats.topology.profileDeleted, new TextEncoder().encode(JSON.stringify({ id })), { msgID: randomUUID() });
    return true;
  }
}
