import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { NatsClient } from '@app/messaging';
import type { UpsertProfileArgs } from './profile.dto.js';

/**
 * A profile created or changed, for platforms without a NATS client: the
 * lifecycle message the platform would publish (docs/profiles.md), answered
 * once the events stream has stored it.
 */
@Injectable()
export class UpsertProfile {
  constructor(private readonly nats: NatsClient) {}

  async execute({ id, profileGroups }: UpsertProfileArgs): Promise<boolean> {
    const body = { id, profile_groups: profileGroups.map((group) => ({ id: group.id, color: group.color ?? null })) };
    // A message id of its own: every call is a change of its own, never a re-send of another.
    await this.nats.jetstream.publish(this.nats.topology.profileUpserted, new TextEncoder().encode(JSON.stringify(body)), { msgID: randomUUID() });
    return true;
  }
}
