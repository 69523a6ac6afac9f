import { Injectable, type OnModuleInit } from '@nestjs/common';
import type { ConfigChange } from './config-records.js';
import { ConfigView } from './config-view.js';
import { FilterIndex } from './filter-index.js';

/** Keeps the filter index equal to the published config, applying each change live. */
@Injectable()
export class RoutingTable implements OnModuleInit {
  readonly index = new FilterIndex();

  constructor(private readonly config: ConfigView) {}

  onModuleInit(): void {
    // Loading and subscribing in one synchronous step: no change can slip in between.
    for (const endpoint of this.config.allEndpoints()) this.index.upsertEndpoint(endpoint);
    for (const filter of this.config.allFilters()) this.index.upsertFilter(filter);
    this.config.onChange((change) => this.apply(change));
  }

  private apply(change: ConfigChange): void {
    switch (change.kind) {
      case 'endpoint-upserted':
        return this.index.upsertEndpoint(change.endpoint);
      case 'endpoint-removed':
        return this.index.removeEndpoint(change.endpointId);
      case 'filter-upserted':
        return this.index.upsertFilter(change.filter);
      case 'filter-removed':
        return this.index.removeFilter(change.filterId);
    }
  }
}
