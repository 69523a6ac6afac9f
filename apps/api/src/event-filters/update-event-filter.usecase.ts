import { Injectable } from '@nestjs/common';
import type { EventFilterEntity } from '@app/persistence';
import { conditionsOf } from './event-filter-input.js';
import { EndpointRegistry } from '../endpoints/endpoint-registry.js';
import { EventFilterRegistry } from './event-filter-registry.js';
import type { EventFiltersUpdateInput } from './event-filter.model.js';

/** Changes the fields given of an event filter (checked by the rules of EventFiltersUpdateInput); the change reaches the router live. */
@Injectable()
export class UpdateEventFilter {
  constructor(
    private readonly registry: EventFilterRegistry,
    private readonly endpoints: EndpointRegistry,
  ) {}

  async execute(id: string, input: EventFiltersUpdateInput): Promise<EventFilterEntity> {
    const name = input.name ?? null;
    const endpoints = input.endpointIds != null ? await this.endpoints.existing(input.endpointIds) : null;
    return this.registry.change(id, async (filter) => {
      if (name !== null) filter.name = name;
      Object.assign(filter, conditionsOf(input.in, filter));
      if (endpoints !== null) filter.endpoints = endpoints;
      // A change of endpoints alone does not touch the row; lastModified must move all the same.
      filter.lastModified = new Date();
    });
  }
}
