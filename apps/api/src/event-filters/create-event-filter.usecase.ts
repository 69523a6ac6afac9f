import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { EventFilterEntity } from '@app/persistence';
import { conditionsOf } from './event-filter-input.js';
import { EndpointRegistry } from '../endpoints/endpoint-registry.js';
import { EventFilterRegistry } from './event-filter-registry.js';
import type { EventFiltersInput } from './event-filter.model.js';

/** Creates an event filter (its input checked by the rules of EventFiltersInput); it reaches the router live. */
@Injectable()
export class CreateEventFilter {
  constructor(
    private readonly dataSource: DataSource,
    private readonly registry: EventFilterRegistry,
    private readonly endpoints: EndpointRegistry,
  ) {}

  async execute(input: EventFiltersInput): Promise<EventFilterEntity> {
    const filter = this.dataSource.getRepository(EventFilterEntity).create({
      id: randomUUID(),
      name: input.name,
      ...conditionsOf(input.in),
      endpoints: await this.endpoints.existing(input.endpointIds ?? []),
    });
    return this.registry.save(filter);
  }
}
