import { randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { EndpointType, hashToken } from '@app/messaging';
import { ApiError } from '../graphql/api.error.js';
import { EndpointRegistry } from './endpoint-registry.js';

/**
 * Makes a websocket endpoint's own connection token, replacing the previous
 * one (whose connections are asked to reconnect). The token is answered this
 * once; the endpoint keeps its SHA-256, which reaches the gateways with the
 * endpoint's config.
 */
@Injectable()
export class RotateWebSocketToken {
  constructor(private readonly registry: EndpointRegistry) {}

  async execute(endpointId: string): Promise<string> {
    const token = `ewt_${randomBytes(32).toString('base64url')}`;
    await this.registry.change(
      endpointId,
      (endpoint) => {
        if (endpoint.type !== EndpointType.WEB_SOCKET) throw ApiError.badInput('endpointId', 'only a websocket endpoint has a connection token');
        endpoint.meta = { ...endpoint.meta, tokenHash: hashToken(token) };
      },
      { field: 'endpointId' },
    );
    return token;
  }
}
