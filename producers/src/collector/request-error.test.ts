import { describe, expect, it } from 'vitest';
import { ProducerErrorCode } from '../errors.ts';
import { httpStatusOf } from './ingest.ts';
import { describeError, RequestError } from './request-error.ts';

const fastifyError = (code: string, statusCode: number, message = 'x') =>
  Object.assign(new Error(message), { code, statusCode });

describe('describeError: one mapping from a thrown error to an HTTP answer', () => {
  it('answers a RequestError with its own status, code, field and headers', () => {
    const error = new RequestError(413, ProducerErrorCode.TOO_MANY_EVENTS, 'at most 500', { path: 'events' });
    expect(describeError(error, 'application/json')).toEqual({
      status: 413,
      headers: {},
      body: { error: { code: 'PRD_TOO_MANY_EVENTS', message: 'at most 500', path: 'events' } },
    });
  });

  it("maps Fastify's body errors to 413, 415 (naming what the route reads) and 400", () => {
    expect(describeError(fastifyError('FST_ERR_CTP_BODY_TOO_LARGE', 413), 'application/json').status).toBe(413);
    const media = describeError(fastifyError('FST_ERR_CTP_INVALID_MEDIA_TYPE', 415), 'application/x-ndjson');
    expect(media.status).toBe(415);
    expect(media.body.error.message).toBe('unsupported Content-Type; send application/x-ndjson');
    expect(describeError(fastifyError('FST_ERR_CTP_EMPTY_JSON_BODY', 400), 'application/json').status).toBe(400);
  });

  it('names the field of a schema validation error', () => {
    const validation = Object.assign(new Error('body/events must be array'), {
      validation: [{ instancePath: '/events', message: 'must be array', params: {} }],
      validationContext: 'body',
    });
    expect(describeError(validation, 'application/json').body.error).toEqual({
      code: 'PRD_MALFORMED_BODY',
      message: 'body must be array',
      path: 'events',
    });
    const missing = Object.assign(new Error(''), {
      validation: [
        { instancePath: '', message: "must have required property 'events'", params: { missingProperty: 'events' } },
      ],
    });
    expect(describeError(missing, 'application/json').body.error.path).toBe('events');
  });

  it('never returns the message or stack of an unexpected error', () => {
    const described = describeError(new TypeError('cannot read x of undefined at /srv/app.ts:12'), 'application/json');
    expect(described.status).toBe(500);
    expect(described.body).toEqual({ error: { code: 'PRD_INTERNAL', message: 'internal error; it has been logged' } });
  });
});

describe('httpStatusOf', () => {
  it('answers 200 when every event was written or was a duplicate, 207 mixed, 422 none valid', () => {
    expect(httpStatusOf(['accepted', 'duplicate'], undefined)).toBe(200);
    expect(httpStatusOf(['accepted', 'rejected'], undefined)).toBe(207);
    expect(httpStatusOf(['rejected', 'rejected'], undefined)).toBe(422);
  });

  it('answers 503 when Kafka did not take valid events, 500 for an unexpected fault', () => {
    const outage = { retriable: true, code: 'PRD_KAFKA_UNAVAILABLE', message: 'down', cause: undefined };
    expect(httpStatusOf(['accepted', 'failed', 'rejected'], outage)).toBe(503);
    expect(httpStatusOf(['failed'], { ...outage, retriable: false })).toBe(500);
  });
});
