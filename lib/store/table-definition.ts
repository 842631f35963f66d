/**
 * The single DynamoDB table, defined once. The CDK stateful stack and the local stack (and the
 * integration tests) all build the table from this object, so local and cloud keys, indexes,
 * TTL and stream settings cannot drift apart. Plain data: no SDK imports here.
 */
export const TABLE_PARTITION_KEY = 'pk';
export const TABLE_SORT_KEY = 'sk';
export const TABLE_TTL_ATTRIBUTE = 'expiresAt';

export interface SecondaryIndexDefinition {
  readonly indexName: string;
  readonly partitionKey: string;
  readonly sortKey: string;
}

/** Generic overloaded indexes: each entity type documents what it puts in gsiNpk/gsiNsk. */
export const SECONDARY_INDEXES = [
  { indexName: 'gsi1', partitionKey: 'gsi1pk', sortKey: 'gsi1sk' },
  { indexName: 'gsi2', partitionKey: 'gsi2pk', sortKey: 'gsi2sk' },
] as const satisfies readonly SecondaryIndexDefinition[];

export type SecondaryIndexName = (typeof SECONDARY_INDEXES)[number]['indexName'];

export const TABLE_DEFINITION = {
  partitionKey: TABLE_PARTITION_KEY,
  sortKey: TABLE_SORT_KEY,
  /** Every key attribute is a string. */
  keyAttributeType: 'S',
  secondaryIndexes: SECONDARY_INDEXES,
  timeToLiveAttribute: TABLE_TTL_ATTRIBUTE,
  /** Provisioning webhooks and roll-ups read the stream; both images for diffs. */
  streamViewType: 'NEW_AND_OLD_IMAGES',
  billingMode: 'PAY_PER_REQUEST',
} as const;

/** Default table name locally; in AWS the name comes from the stack (AGORA_TABLE_NAME). */
export const LOCAL_TABLE_NAME = 'agora';
