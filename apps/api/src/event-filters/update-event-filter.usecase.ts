import { Injectable } from '@nestjs/common';
import type { EventFilterEntity } from '@app/persistence';
import { parseName } from '../endpoints/endpoint-input.js';
import { parseConditions } from './event-filter-input.js';
import { EventFilterRegistry } from './event-filter-registry.js';
import type { EventFiltersUpdateInput } from './event-filter.model.js';

/** Changes the fields given of an event filter; the change reaches the router live. */
@Injectable()
export class UpdateEventFilter {
  constructor(private readonly registry: EventFilterRegistry) {}

  async execute(id: string, input: EventFiltersUpdateInput): Promise<EventFilterEntity> {
    const filter = await this.registry.find(id);
    if (input.name != null) filter.name = parseName(input.name);
    Object.assign(filter, parseConditions(input.in, filter));
    if (input.endpointIds != null) filter.endpoints = await this.registry.existingEndpoints(input.endpointIds);
    // A change of endpoints alone does not touch the row; lastModified must move all the same.
    filter.lastModified = new Date();
    return this.registry.save(filter);
  }
}
