import { Injectable } from '@nestjs/common';
import { EndpointType, type WebSocketAccess } from '@app/messaging';
import type { EndpointEntity } from '@app/persistence';
import { ApiError } from '../graphql/api.error.js';
import { EndpointRegistry } from './endpoint-registry.js';
import type { WebSocketAccessInput } from './websocket-access.js';

/**
 * Sets who may connect to a websocket endpoint; in every gateway replica
 * when this returns, and the clients connected under the previous access
 * are asked to reconnect (they resume without loss).
 */
@Injectable()
export class SetWebSocketAccess {
  constructor(private readonly registry: EndpointRegistry) {}

  execute(endpointId: string, input: WebSocketAccessInput): Promise<EndpointEntity> {
    const access: WebSocketAccess = {
      requireToken: input.requireToken,
      allowedOrigins: [...new Set(input.allowedOrigins.map((origin) => origin.toLowerCase().replace(/\/$/, '')))],
      maxConnections: input.maxConnections ?? null,
    };
    return this.registry.change(
      endpointId,
      (endpoint) => {
        if (endpoint.type !== EndpointType.WEB_SOCKET) throw ApiError.badInput('endpointId', 'only a websocket endpoint has connection access');
        endpoint.meta = { ...endpoint.meta, access };
      },
      { field: 'endpointId' },
    );
  }
}
