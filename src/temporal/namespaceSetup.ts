/**
 * unstick's custom search attributes on a namespace: which are missing or of another type, and registering the
 * missing ones through the operator API (`unstick setup`; the dev server does it at every start). The worker checks
 * them at start-up, since a workflow that upserts an unregistered attribute fails its workflow task over and over.
 */
import type { Connection } from '@temporalio/client';
import { SearchAttributeType } from '@temporalio/common';
import type { SearchAttributeKey } from '@temporalio/common/lib/search-attributes';
import { temporal } from '@temporalio/proto';
import { ALL_SEARCH_ATTRIBUTES } from '../shared/searchAttributes';

const IndexedValueType = temporal.api.enums.v1.IndexedValueType;
type IndexedValueType = temporal.api.enums.v1.IndexedValueType;

export const INDEXED_TYPE: Record<SearchAttributeType, IndexedValueType> = {
  TEXT: IndexedValueType.INDEXED_VALUE_TYPE_TEXT,
  KEYWORD: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  INT: IndexedValueType.INDEXED_VALUE_TYPE_INT,
  DOUBLE: IndexedValueType.INDEXED_VALUE_TYPE_DOUBLE,
  BOOL: IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
  DATETIME: IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
  KEYWORD_LIST: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST,
};

/** How Temporal's CLI, UI and Cloud spell the types (`Keyword`, `KeywordList`, …). */
const TYPE_NAME: Record<SearchAttributeType, string> = {
  TEXT: 'Text',
  KEYWORD: 'Keyword',
  INT: 'Int',
  DOUBLE: 'Double',
  BOOL: 'Bool',
  DATETIME: 'Datetime',
  KEYWORD_LIST: 'KeywordList',
};

const typeNameOf = (t: IndexedValueType): string => {
  const found = (Object.keys(INDEXED_TYPE) as SearchAttributeType[]).find((k) => INDEXED_TYPE[k] === t);
  return found ? TYPE_NAME[found] : `type ${t}`;
};

export const describeAttribute = (k: SearchAttributeKey<SearchAttributeType>): string => `${k.name} (${TYPE_NAME[k.type]})`;

export interface SearchAttributeCheck {
  missing: SearchAttributeKey<SearchAttributeType>[];
  /** Registered under the same name with another type: unstick cannot use them, and will not change them. */
  wrongType: { key: SearchAttributeKey<SearchAttributeType>; registeredAs: string }[];
}

export async function checkSearchAttributes(
  connection: Connection,
  namespace: string,
  wanted: readonly SearchAttributeKey<SearchAttributeType>[] = ALL_SEARCH_ATTRIBUTES,
): Promise<SearchAttributeCheck> {
  const res = await connection.operatorService.listSearchAttributes({ namespace });
  const custom = res.customAttributes ?? {};
  const result: SearchAttributeCheck = { missing: [], wrongType: [] };
  for (const key of wanted) {
    const have = custom[key.name];
    if (have === undefined || have === null) result.missing.push(key);
    else if (have !== INDEXED_TYPE[key.type]) result.wrongType.push({ key, registeredAs: typeNameOf(have) });
  }
  return result;
}

/** One line per problem, and what to run. Empty when everything is registered as unstick needs it. */
export function searchAttributeProblems(check: SearchAttributeCheck, namespace: string): string[] {
  const lines = check.wrongType.map(
    ({ key, registeredAs }) => `search attribute ${key.name} on namespace ${namespace} is ${registeredAs}, unstick needs ${TYPE_NAME[key.type]}: rename or remove it first`,
  );
  if (check.missing.length) {
    lines.push(`search attributes missing on namespace ${namespace}: ${check.missing.map(describeAttribute).join(', ')}; run \`npx unstick setup\``);
  }
  return lines;
}

export type SetupOutcome =
  | { kind: 'ready'; added: string[]; present: string[] }
  | { kind: 'conflict'; problems: string[] }
  /** The operator API refused (Temporal Cloud adds search attributes through its own control plane). */
  | { kind: 'refused'; message: string; missing: string[] };

/** Adds what is missing (never changes what exists). Idempotent. */
export async function registerSearchAttributes(
  connection: Connection,
  namespace: string,
  wanted: readonly SearchAttributeKey<SearchAttributeType>[] = ALL_SEARCH_ATTRIBUTES,
): Promise<SetupOutcome> {
  const before = await checkSearchAttributes(connection, namespace, wanted);
  if (before.wrongType.length) return { kind: 'conflict', problems: searchAttributeProblems(before, namespace) };
  const present = wanted.filter((k) => !before.missing.includes(k)).map(describeAttribute);
  if (!before.missing.length) return { kind: 'ready', added: [], present };
  try {
    await connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(before.missing.map((k) => [k.name, INDEXED_TYPE[k.type]])),
    });
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    // PERMISSION_DENIED, UNIMPLEMENTED: not allowed through this API here (Temporal Cloud).
    if (code === 7 || code === 12) return { kind: 'refused', message: (err as Error).message, missing: before.missing.map((k) => `${k.name}=${TYPE_NAME[k.type]}`) };
    throw err;
  }
  return { kind: 'ready', added: before.missing.map(describeAttribute), present };
}
