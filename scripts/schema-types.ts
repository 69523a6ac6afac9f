import {
  buildSchema,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputField,
  type GraphQLNamedType,
  type GraphQLType,
} from 'graphql';

/** How each scalar of the API reads in TypeScript (DateTime is an ISO string on the wire). */
const SCALARS: Record<string, string> = { ID: 'string', String: 'string', Int: 'number', Float: 'number', Boolean: 'boolean', DateTime: 'string', JSON: 'unknown' };

function typeScript(type: GraphQLType): string {
  if (isNonNullType(type)) return typeScript(type.ofType).replace(/ \| null$/, '');
  if (isListType(type)) return `Array<${typeScript(type.ofType)}> | null`;
  const name = (type as GraphQLNamedType).name;
  return `${isScalarType(type) ? (SCALARS[name] ?? 'unknown') : name} | null`;
}

function comment(description: string | null | undefined, indent = ''): string {
  return description ? `${indent}/** ${description.replace(/\*\//g, '*\\/').replace(/\n/g, ' ')} */\n` : '';
}

function member(field: GraphQLField<unknown, unknown> | GraphQLInputField | GraphQLArgument, input: boolean): string {
  const optional = input && !isNonNullType(field.type) ? '?' : '';
  return `${comment(field.description, '  ')}  ${field.name}${optional}: ${typeScript(field.type)};\n`;
}

/**
 * TypeScript declarations for every type of a GraphQL schema (SDL): enums as
 * string unions with their values, input and object types as interfaces, and
 * each field's arguments as `<Type><Field>Args`. The dashboard is typed
 * against these; `npm run schema` writes them beside the schema.
 */
export function typeScriptFromSchema(sdl: string): string {
  const schema = buildSchema(sdl);
  let out = '// Generated from apps/api/schema.graphql by `npm run schema`: do not edit.\n\n';
  for (const type of Object.values(schema.getTypeMap())) {
    if (type.name.startsWith('__') || isScalarType(type)) continue;
    out += comment(type.description);
    if (isEnumType(type)) {
      const values = type.getValues().map((value) => `'${value.name}'`);
      out += `export type ${type.name} = ${values.join(' | ')};\n`;
      out += `export const ${type.name}Values: readonly ${type.name}[] = [${values.join(', ')}];\n\n`;
    } else if (isInputObjectType(type)) {
      out += `export interface ${type.name} {\n${Object.values(type.getFields()).map((field) => member(field, true)).join('')}}\n\n`;
    } else if (isObjectType(type)) {
      const fields = Object.values(type.getFields());
      out += `export interface ${type.name} {\n${fields.map((field) => member(field, false)).join('')}}\n\n`;
      for (const field of fields.filter((candidate) => candidate.args.length > 0)) {
        const name = `${type.name}${field.name[0]!.toUpperCase()}${field.name.slice(1)}Args`;
        out += `export interface ${name} {\n${field.args.map((arg) => member(arg, true)).join('')}}\n\n`;
      }
    }
  }
  return out.replace(/\n\n$/, '\n');
}
