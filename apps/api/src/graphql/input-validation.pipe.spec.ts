import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import type { ArgumentMetadata } from '@nestjs/common';
import { CreateWebhookEndpointArgs, EndpointFilters, UpdateEndpointArgs } from '../endpoints/endpoint.model.js';
import { EventFiltersInput, MAX_FILTER_VALUES } from '../event-filters/event-filter.model.js';
import { LostEventFilters } from '../lost-events/lost-event.model.js';
import { DeliveryAttemptFilters } from '../deliveries/delivery.model.js';
import { ApiError } from './api.error.js';
import { Pagination } from './collection.model.js';
import { InputValidationPipe } from './input-validation.pipe.js';

const pipe = new InputValidationPipe();

/** An argument as graphql-js hands it over: objects without a prototype. */
function graphqlValue(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(graphqlValue);
  if (value === null || typeof value !== 'object' || value instanceof Date) return value;
  return Object.assign(Object.create(null), Object.fromEntries(Object.entries(value).map(([key, item]) => [key, graphqlValue(item)])));
}

/** `value` through the pipe, as the GraphQL argument `data` (none: an @ArgsType) of class `metatype`. */
function check(metatype: ArgumentMetadata['metatype'], value: unknown, data?: string): Promise<unknown> {
  return pipe.transform(graphqlValue(value), { type: 'body', metatype, data });
}

async function refusal(metatype: ArgumentMetadata['metatype'], value: unknown, data?: string): Promise<{ code: unknown; field: unknown; message: string }> {
  const error = await check(metatype, value, data).then(
    () => null,
    (thrown: unknown) => thrown,
  );
  if (!(error instanceof ApiError)) throw new Error(`expected an ApiError, got ${String(error)}`);
  return { code: error.extensions.code, field: error.extensions.field, message: error.message };
}

const webhook = { name: 'crm', url: 'https://crm.example.com/hook' };

describe('InputValidationPipe', () => {
  it.each([
    ['an empty name', CreateWebhookEndpointArgs, { ...webhook, name: '   ' }, undefined, 'name', 'name: must not be empty'],
    ['a name too long', CreateWebhookEndpointArgs, { ...webhook, name: 'x'.repeat(201) }, undefined, 'name', 'name: must be at most 200 characters'],
    ['a NUL in a name', CreateWebhookEndpointArgs, { ...webhook, name: 'a\u0000b' }, undefined, 'name', 'name: must not contain a NUL character (\\u0000)'],
    ['a NUL in a list item', CreateWebhookEndpointArgs, { ...webhook, headers: [{ name: 'X-Ok', value: '1' }, { name: 'X-Two', value: '\u0000' }] }, undefined, 'headers.1.value', 'headers.1.value: must not contain a NUL character (\\u0000)'],
    ['a url that does not parse', CreateWebhookEndpointArgs, { ...webhook, url: 'receiver' }, undefined, 'url', 'url: must be an absolute http or https URL'],
    ['a url that is not http', CreateWebhookEndpointArgs, { ...webhook, url: 'ftp://receiver.test' }, undefined, 'url', 'url: must use http or https'],
    ['a url with credentials', UpdateEndpointArgs, { id: 'x', url: 'https://user:secret@crm.test' }, undefined, 'url', 'url: must not contain credentials; use custom headers'],
    ['a rate below 0', CreateWebhookEndpointArgs, { ...webhook, maxRatePerSecond: -1 }, undefined, 'maxRatePerSecond', 'maxRatePerSecond: must be a whole number'],
    ['a rate above the limit', UpdateEndpointArgs, { id: 'x', maxRatePerSecond: 100_001 }, undefined, 'maxRatePerSecond', 'maxRatePerSecond: must be a whole number'],
    [
      'a malformed header name in the list',
      CreateWebhookEndpointArgs,
      { ...webhook, headers: [{ name: 'X-Ok', value: '1' }, { name: 'X Bad', value: '1' }] },
      undefined,
      'headers.1.name',
      'headers.1.name: is not a valid header name',
    ],
    [
      'a reserved header name',
      UpdateEndpointArgs,
      { id: 'x', headers: [{ name: 'Webhook-Signature', value: 'forged' }] },
      undefined,
      'headers.0.name',
      'headers.0.name: Webhook-Signature is set by the dispatcher',
    ],
    ['a header value of two lines', CreateWebhookEndpointArgs, { ...webhook, headers: [{ name: 'X-A', value: 'a\r\nb' }] }, undefined, 'headers.0.value', 'headers.0.value: must be one line'],
    ['a header value too long', CreateWebhookEndpointArgs, { ...webhook, headers: [{ name: 'X-A', value: 'v'.repeat(4_097) }] }, undefined, 'headers.0.value', 'headers.0.value: must be one line'],
    ['a malformed endpoint id', EventFiltersInput, { name: 'f', endpointIds: ['lobby'] }, 'eventFiltersInput', 'endpointIds.0', 'endpointIds.0: must be a UUID'],
    ['a malformed id in a condition', EventFiltersInput, { name: 'f', in: { profileGroupIds: [randomUUID(), 'x'] } }, 'eventFiltersInput', 'in.profileGroupIds.1', 'in.profileGroupIds.1: must be a UUID'],
    ['too many camera ids', EventFiltersInput, { name: 'f', in: { cameraIds: Array.from({ length: MAX_FILTER_VALUES + 1 }, () => 'x') } }, 'eventFiltersInput', 'in.cameraIds', 'in.cameraIds: must have at most 10000 values'],
    ['a malformed exact id', EndpointFilters, { id: { exact: '42' } }, 'filters', 'filters.id.exact', 'filters.id.exact: must be a UUID'],
    ['a malformed id in a list filter', LostEventFilters, { cameraId: { in: [randomUUID(), randomUUID(), '42'] } }, 'filters', 'filters.cameraId.in.2', 'filters.cameraId.in.2: must be a UUID'],
    ['a page too large', Pagination, { offset: 0, limit: 1_001 }, 'pagination', 'pagination.limit', 'pagination.limit: must be between 1 and 1000'],
    ['an empty page', Pagination, { limit: 0 }, 'pagination', 'pagination.limit', 'pagination.limit: must be between 1 and 1000'],
    ['a negative offset', Pagination, { offset: -1 }, 'pagination', 'pagination.offset', 'pagination.offset: must be 0 or more'],
    ['a date that does not parse', DeliveryAttemptFilters, { attemptedAt: { lt: new Date('yesterday') } }, 'filters', 'filters.attemptedAt.lt', 'filters.attemptedAt.lt: must be a date-time'],
    ['a date PostgreSQL cannot hold', LostEventFilters, { date: { gte: new Date('-271821-04-20T00:00:00Z') } }, 'filters', 'filters.date.gte', 'filters.date.gte: must be a date-time'],
  ])('refuses %s with BAD_USER_INPUT naming its path', async (_case, metatype, value, data, field, message) => {
    const error = await refusal(metatype, value, data);

    expect(error).toMatchObject({ code: 'BAD_USER_INPUT', field });
    expect(error.message.startsWith(message)).toBe(true);
  });

  it('reports the first violation only', async () => {
    const error = await refusal(CreateWebhookEndpointArgs, { name: '', url: 'receiver', headers: [{ name: 'host', value: 'x' }] });

    expect(error.field).toBe('name');
  });

  it('hands the resolver an instance of the class, names trimmed, nested inputs and dates kept', async () => {
    const args = await check(CreateWebhookEndpointArgs, { ...webhook, name: '  crm  ', url: ' https://crm.example.com/hook ', headers: [{ name: 'Authorization', value: 'Bearer t' }] });
    const gt = new Date('2026-01-02T03:04:05Z');
    const filters = await check(LostEventFilters, { id: { exact: '72AA3A70-1F2B-4C5D-8E9F-0A1B2C3D4E5F' }, date: { gt } }, 'filters');

    expect(args).toBeInstanceOf(CreateWebhookEndpointArgs);
    expect(args).toMatchObject({ name: 'crm', url: 'https://crm.example.com/hook', headers: [{ name: 'Authorization', value: 'Bearer t' }] });
    expect(filters).toMatchObject({ id: { exact: '72AA3A70-1F2B-4C5D-8E9F-0A1B2C3D4E5F' }, date: { gt } });
  });

  it('accepts ids of any version and case, and an absent optional argument', async () => {
    await expect(check(EventFiltersInput, { name: 'f', endpointIds: ['00000000-0000-0000-0000-000000000000', 'ABCDEF01-2345-6789-ABCD-EF0123456789'] }, 'eventFiltersInput')).resolves.toBeDefined();
    await expect(check(Pagination, undefined, 'pagination')).resolves.toMatchObject({});
  });

  it('leaves scalar arguments and the HTTP parameters alone', async () => {
    await expect(pipe.transform('42', { type: 'body', metatype: String, data: 'id' })).resolves.toBe('42');
    await expect(pipe.transform('42', { type: 'param', metatype: String, data: 'id' })).resolves.toBe('42');
    await expect(pipe.transform({ limit: 0 }, { type: 'custom', metatype: Pagination })).resolves.toEqual({ limit: 0 });
  });
});
