import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { printApiSchema } from '../apps/api/src/graphql/api-schema.js';
import { projectRoot } from './local-stack.js';
import { typeScriptFromSchema } from './schema-types.js';

/** `npm run schema`: writes the API's schema and the dashboard's types generated from it (both committed). */
const SCHEMA_FILE = 'apps/api/schema.graphql';
const DASHBOARD_TYPES_FILE = 'apps/dashboard/src/schema.generated.ts';

const sdl = await printApiSchema();
writeFileSync(join(projectRoot(), SCHEMA_FILE), sdl);
writeFileSync(join(projectRoot(), DASHBOARD_TYPES_FILE), typeScriptFromSchema(sdl));
process.stdout.write(`wrote ${SCHEMA_FILE} and ${DASHBOARD_TYPES_FILE}\n`);
