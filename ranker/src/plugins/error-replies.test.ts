import { describe, expect, it } from 'vitest';
import { RankerErrorCode, RequestRefused } from '../errors.ts';
import { errorReply } from './error-replies.ts';

const validation = (issue: object, context = 'body') =>
  Object.assign(new Error('validation'), { validation: [issue], validationContext: context, statusCode: 400 });

describe('errorReply', () => {
  it('answers a refusal with its status, code, message and field', () => {
    const reply = errorReply(
      new RequestRefused(400, RankerErrorCode.DUPLICATE_CANDIDATE, 'candidates[1]: duplicate', {
        field: 'candidates[1]',
      }),
      'r1',
    );
    expect(reply.status).toBe(400);
    expect(reply.body.error).toEqual({
      code: 'RNK_DUPLICATE_CANDIDATE',
      message: 'candidates[1]: duplicate',
      field: 'candidates[1]',
    });
  });

  it('names the field of a schema violation, unknown and missing properties included', () => {
    expect(
      errorReply(
        validation({ instancePath: '/candidates/3', keyword: 'type', params: { type: ['string', 'object'] } }),
        'r',
      ).body.error,
    ).toMatchObject({ code: 'RNK_INVALID_REQUEST', field: 'candidates[3]' });
    expect(
      errorReply(
        validation({
          instancePath: '/candidates/0',
          keyword: 'additionalProperties',
          params: { additionalProperty: 'x' },
        }),
        'r',
      ).body.error,
    ).toEqual({
      code: 'RNK_INVALID_REQUEST',
      message: 'candidates[0].x: is not a known field',
      field: 'candidates[0].x',
    });
    expect(
      errorReply(validation({ instancePath: '', keyword: 'required', params: { missingProperty: 'query' } }), 'r').body
        .error.message,
    ).toBe('query: is required');
  });

  it('gives too many candidates its own code', () => {
    const reply = errorReply(
      validation({
        instancePath: '/candidates',
        keyword: 'maxItems',
        params: { limit: 1000 },
        message: 'must NOT have more than 1000 items',
      }),
      'r',
    );
    expect(reply.body.error.code).toBe('RNK_TOO_MANY_CANDIDATES');
    expect(reply.body.error.message).toBe('candidates: must NOT have more than 1000 items');
  });

  it('maps Fastify body errors to 413 and 415 naming what is wrong', () => {
    expect(errorReply(Object.assign(new Error('x'), { code: 'FST_ERR_CTP_BODY_TOO_LARGE' }), 'r').status).toBe(413);
    const media = errorReply(Object.assign(new Error('x'), { code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE' }), 'r');
    expect(media.status).toBe(415);
    expect(media.body.error.field).toBe('content-type');
  });

  it('never puts an internal error message or stack into the answer', () => {
    const internal = new Error('ECONNREFUSED 10.0.0.7:6379 at Socket.connect (/app/node_modules/ioredis/x.js:1:1)');
    const reply = errorReply(internal, 'req-42');
    expect(reply.status).toBe(500);
    expect(reply.body.error).toEqual({
      code: 'RNK_INTERNAL',
      message: 'internal error; quote request id req-42',
      request_id: 'req-42',
    });
    expect(JSON.stringify(reply.body)).not.toMatch(/ECONNREFUSED|node_modules|10\.0\.0\.7/);
  });
});
