import type { RankerSettings } from '../config.ts';

/**
 * JSON schemas of POST /rank: Fastify validates requests with them (ajv, no coercion, no removal of
 * unknown properties, finite numbers only), serialises answers with fast-json-stringify, and serves
 * them as OpenAPI at /docs/json.
 */
export function rankSchemas(settings: Pick<RankerSettings, 'maxCandidates' | 'maxQueryLength' | 'maxIdLength'>) {
  const id = { type: 'string', minLength: 1, maxLength: settings.maxIdLength } as const;
  const body = {
    type: 'object',
    additionalProperties: false,
    required: ['query', 'candidates'],
    properties: {
      query: {
        type: 'string',
        minLength: 1,
        maxLength: settings.maxQueryLength,
        pattern: '\\S',
        description: 'The query as the shopper typed it (normalised by the ranker).',
      },
      candidates: {
        type: 'array',
        minItems: 1,
        maxItems: settings.maxCandidates,
        description: 'Products to rank: ids, or objects with a first-stage retrieval score. No duplicates.',
        items: {
          // A union type rather than anyOf: one pass per item, and one error naming the item.
          type: ['string', 'object'],
          minLength: 1,
          maxLength: settings.maxIdLength,
          additionalProperties: false,
          required: ['product_id'],
          properties: {
            product_id: id,
            retrieval_score: { type: 'number', description: 'Finite; NaN and Infinity are refused.' },
          },
        },
      },
      user_id: id,
      session_id: id,
      limit: {
        type: 'integer',
        minimum: 1,
        maximum: settings.maxCandidates,
        description: 'Return only the best `limit` results (default: all).',
      },
    },
  } as const;

  const querystring = {
    type: 'object',
    additionalProperties: false,
    properties: {
      explain: {
        type: 'string',
        enum: ['true', 'false', '1', '0'],
        description: "Add each result's feature values (null where missing).",
      },
    },
  } as const;

  const ok = {
    type: 'object',
    required: ['request_id', 'model_version', 'degraded', 'results'],
    properties: {
      request_id: { type: 'string', description: 'Echo it in the SearchImpression of this list (request_id).' },
      model_version: {
        type: ['integer', 'null'],
        description: 'The registry version that scored the list; null when no model is loaded.',
      },
      degraded: {
        type: 'boolean',
        description: 'True when served without the feature store (default features) or without a model (input order).',
      },
      results: {
        type: 'array',
        items: {
          type: 'object',
          required: ['product_id', 'score', 'position'],
          properties: {
            product_id: { type: 'string' },
            score: { type: ['number', 'null'], description: "The model's score; null without a model." },
            position: { type: 'integer', description: '1-based.' },
            features: {
              type: 'object',
              description: 'With ?explain=true: feature name → value (null: missing).',
              additionalProperties: { type: ['number', 'null'] },
            },
          },
        },
      },
    },
  } as const;

  return { body, querystring, response: { 200: ok, '4xx': errorSchema, '5xx': errorSchema } };
}

export const errorSchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string', description: 'RNK_* code.' },
        message: { type: 'string' },
        field: { type: 'string', description: 'The request field at fault, when there is one.' },
        request_id: { type: 'string' },
      },
    },
  },
} as const;
