import type { ApolloServerPlugin } from '@apollo/server';
import { GraphQLError, Kind, type DocumentNode, type FragmentDefinitionNode, type OperationDefinitionNode, type SelectionSetNode, type ValueNode } from 'graphql';
import { MAX_PAGE_SIZE } from './collection.model.js';

/** Limits of one GraphQL operation, checked before it runs (docs/api.md, "Limits"). */
export const QUERY_LIMITS = {
  /** Nesting of fields, counted from the operation's root. */
  depth: 8,
  /** Fields given an alias: each alias is another copy of a (possibly costly) field. */
  aliases: 20,
  /** Rows the operation may ask for: every field costs 1, multiplied by the page sizes and list sizes above it. */
  cost: 20_000,
};

/** A paginated field's page size when the operation does not say (pageOf's default). */
const DEFAULT_PAGE = 50;
/** What a list field without pagination is assumed to return (an endpoint's filters, a filter's endpoints). */
const LIST_GUESS = 10;
const LIST_FIELDS = new Set(['eventFilters', 'endpoints']);
/** The root queries that answer a page (`collectionItems`) of `pagination.limit` rows, 50 unless asked. */
const PAGED_QUERIES = new Set(['endpoints', 'eventsFilters', 'deliveryAttempts', 'lostEvents', 'apiTokens']);

/**
 * The GraphQL API's limits, before anything runs (tokens are checked before
 * that, by GraphqlAuthMiddleware): no operation deeper, more aliased or more
 * costly than QUERY_LIMITS, each refused with a code (QUERY_TOO_DEEP,
 * TOO_MANY_ALIASES, QUERY_TOO_COSTLY).
 */
export function graphqlLimits(): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ document, operation, request }) {
          if (operation) checkLimits(document, operation, request.variables ?? {});
        },
      };
    },
  };
}

function refuse(code: string, message: string): never {
  throw new GraphQLError(message, { extensions: { code, http: { status: 400 } } });
}

function checkLimits(document: DocumentNode, operation: OperationDefinitionNode, variables: Record<string, unknown>): void {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  let aliases = 0;
  let deepest = 0;

  /** The cost of a selection set at `depth`, each field multiplied by `multiplier`. */
  /** `page`: the page size of the paged query this selection set belongs to (its `collectionItems` are that many). */
  const walk = (selectionSet: SelectionSetNode, depth: number, multiplier: number, inFragments: Set<string>, page = 1): number => {
    let cost = 0;
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FRAGMENT_SPREAD) {
        const name = selection.name.value;
        const fragment = fragments.get(name);
        // A fragment that spreads itself is GraphQL's own validation error; it is not followed twice here.
        if (fragment && !inFragments.has(name)) cost += walk(fragment.selectionSet, depth, multiplier, new Set([...inFragments, name]), page);
        continue;
      }
      if (selection.kind === Kind.INLINE_FRAGMENT) {
        cost += walk(selection.selectionSet, depth, multiplier, inFragments, page);
        continue;
      }
      if (selection.alias) aliases += 1;
      const fieldDepth = depth + 1;
      deepest = Math.max(deepest, fieldDepth);
      cost += multiplier;
      if (selection.selectionSet) {
        const name = selection.name.value;
        if (depth === 0 && PAGED_QUERIES.has(name)) {
          cost += walk(selection.selectionSet, fieldDepth, multiplier, inFragments, pageSizeOf(selection.arguments ?? [], variables));
          continue;
        }
        const below = name === 'collectionItems' ? page : LIST_FIELDS.has(name) ? LIST_GUESS : 1;
        cost += walk(selection.selectionSet, fieldDepth, multiplier * below, inFragments);
      }
    }
    return cost;
  };
  const cost = walk(operation.selectionSet, 0, 1, new Set());
  if (deepest > QUERY_LIMITS.depth) refuse('QUERY_TOO_DEEP', `the operation nests fields ${deepest} deep; the limit is ${QUERY_LIMITS.depth}`);
  if (aliases > QUERY_LIMITS.aliases) refuse('TOO_MANY_ALIASES', `the operation has ${aliases} aliased fields; the limit is ${QUERY_LIMITS.aliases}`);
  if (cost > QUERY_LIMITS.cost) refuse('QUERY_TOO_COSTLY', `the operation may ask for about ${cost} rows; the limit is ${QUERY_LIMITS.cost} (ask for smaller pages or fewer nested lists)`);
}

/** A paged query's `pagination.limit` (literal or variable), or the default page. */
function pageSizeOf(args: ReadonlyArray<{ name: { value: string }; value: ValueNode }>, variables: Record<string, unknown>): number {
  const pagination = args.find((arg) => arg.name.value === 'pagination');
  if (!pagination) return DEFAULT_PAGE;
  const value = valueOf(pagination.value, variables) as { limit?: unknown } | null;
  const limit = value?.limit;
  // A page over MAX_PAGE_SIZE is refused by Pagination's rules (BAD_USER_INPUT, naming pagination.limit).
  return typeof limit === 'number' && limit > 0 ? Math.min(limit, MAX_PAGE_SIZE) : DEFAULT_PAGE;
}

function valueOf(node: ValueNode, variables: Record<string, unknown>): unknown {
  switch (node.kind) {
    case Kind.VARIABLE:
      return variables[node.name.value];
    case Kind.INT:
      return Number(node.value);
    case Kind.OBJECT:
      return Object.fromEntries(node.fields.map((field) => [field.name.value, valueOf(field.value, variables)]));
    default:
      return null;
  }
}
