import { describe, expect, it } from 'vitest';
import { DeadLetterHeader, deadLetterMessage, deadLetterOrigin } from './dead-letter.ts';

const source = {
  topic: 'searchop.clicks.v1',
  partition: 4,
  offset: '1234',
  key: Buffer.from('session-1'),
  value: Buffer.from([1, 2, 3]),
  headers: { traceparent: '00-abc-def-01' },
};

describe('deadLetterMessage', () => {
  it('keeps the record as it was and says where it came from and why', () => {
    const message = deadLetterMessage(
      source,
      { code: 'SCH_BAD_MAGIC_BYTE', reason: 'not Confluent framing' },
      new Date(Date.UTC(2025, 0, 2, 3, 4, 5)),
    );
    expect(message.key).toEqual(source.key);
    expect(message.value).toEqual(source.value);
    expect(message.headers).toEqual({
      traceparent: '00-abc-def-01',
      [DeadLetterHeader.SOURCE_TOPIC]: 'searchop.clicks.v1',
      [DeadLetterHeader.SOURCE_PARTITION]: '4',
      [DeadLetterHeader.SOURCE_OFFSET]: '1234',
      [DeadLetterHeader.ERROR_CODE]: 'SCH_BAD_MAGIC_BYTE',
      [DeadLetterHeader.ERROR_REASON]: 'not Confluent framing',
      [DeadLetterHeader.FAILED_AT]: '2025-01-02T03:04:05.000Z',
    });
  });

  it('cuts very long reasons', () => {
    const message = deadLetterMessage(source, { code: 'X', reason: 'r'.repeat(5_000) }, new Date());
    const reason = message.headers?.[DeadLetterHeader.ERROR_REASON] as string;
    expect(reason).toHaveLength(1_000);
    expect(reason.endsWith('…')).toBe(true);
  });

  it('reads back from the headers a consumer of the DLQ receives (Buffers)', () => {
    const message = deadLetterMessage(source, { code: 'STP_INVALID_EVENT', reason: 'occurred_at' }, new Date(0));
    const received = Object.fromEntries(
      Object.entries(message.headers ?? {}).map(([k, v]) => [k, Buffer.from(String(v))]),
    );
    expect(deadLetterOrigin(received)).toEqual({
      sourceTopic: 'searchop.clicks.v1',
      sourcePartition: 4,
      sourceOffset: '1234',
      code: 'STP_INVALID_EVENT',
      reason: 'occurred_at',
      failedAt: '1970-01-01T00:00:00.000Z',
    });
    expect(deadLetterOrigin({ traceparent: Buffer.from('x') })).toBeUndefined();
  });
});
