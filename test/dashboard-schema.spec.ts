import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { buildSchema, parse, validate } from 'graphql';
import { printApiSchema } from '../apps/api/src/graphql/api-schema.js';
import * as operations from '../apps/dashboard/src/operations.js';
import { projectRoot } from '../scripts/local-stack.js';
import { typeScriptFromSchema } from '../scripts/schema-types.js';

const committed = (path: string): string => readFileSync(join(projectRoot(), path), 'utf8');

/** The dashboard is typed against the API's schema: the committed schema and types are current, and every document it sends is valid. */
describe('the dashboard against the GraphQL schema', () => {
  it('apps/api/schema.graphql is the schema the api serves (run npm run schema after changing the API)', async () => {
    expect(committed('apps/api/schema.graphql')).toBe(await printApiSchema());
  });

  it('the dashboard’s types are generated from that schema', () => {
    expect(committed('apps/dashboard/src/schema.generated.ts')).toBe(typeScriptFromSchema(committed('apps/api/schema.graphql')));
  });

  it('every GraphQL document of the dashboard is valid against the schema', () => {
    const schema = buildSchema(committed('apps/api/schema.graphql'));
    const documents = Object.entries(operations).filter((entry): entry is [string, { document: string }] => typeof entry[1] === 'object' && entry[1] !== null && 'document' in entry[1]);
    expect(documents.length).toBeGreaterThan(15);
    for (const [name, { document }] of documents) {
      expect({ name, errors: validate(schema, parse(document)).map((error) => error.message) }).toEqual({ name, errors: [] });
    }
  });
});
