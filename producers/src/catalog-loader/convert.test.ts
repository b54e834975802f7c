import { describe, expect, it } from 'vitest';
import {
  cleanText,
  currencyDigits,
  formatDecimal,
  isBlank,
  parseBoolean,
  parseDecimal,
  parseInstant,
  parseListLiteral,
  preview,
  toScaledInteger,
  toText,
  toTextList,
  type Decimal,
  type Result,
} from './convert.ts';

function value<T>(result: Result<T>): T {
  if (!result.ok) throw new Error(`expected a value, got "${result.reason}"`);
  return result.value;
}
function reason(result: Result<unknown>): string {
  if (result.ok) throw new Error(`expected a failure, got ${JSON.stringify(result.value)}`);
  return result.reason;
}
const decimal = (raw: unknown, sep: '.' | ',' = '.') => formatDecimal(value(parseDecimal(raw, sep)));

describe('cleanText', () => {
  it('turns HTML into one line of text, decoding entities and dropping images, scripts and styles', () => {
    expect(cleanText('Intel® Core™2 Duo Processor T5600 <br />(2M Cache, 1.83 GHz)', { html: true })).toBe(
      'Intel® Core™2 Duo Processor T5600 (2M Cache, 1.83 GHz)',
    );
    expect(cleanText('6 ft 90&deg; Cable <strong>M/M</strong>', { html: true })).toBe('6 ft 90° Cable M/M');
    expect(cleanText('<div><img src="x.jpg"></div>', { html: true })).toBe('');
    expect(cleanText('<script>alert(1)</script>Hi<style>p{}</style>', { html: true })).toBe('Hi');
    expect(
      cleanText('<h2>Big</h2><ul><li>a</li><li>b</li></ul><table><tr><td>x</td><td>y</td></tr></table>', {
        html: true,
      }),
    ).toBe('Big a b x y');
  });

  it('leaves text that only looks a little like markup alone', () => {
    expect(cleanText('Cable <3m & more, 5 < 6', { html: true })).toBe('Cable <3m & more, 5 < 6');
    expect(cleanText('AT&T <b>', { html: false })).toBe('AT&T <b>');
  });

  it('folds control characters, tabs, line breaks and whitespace runs into single spaces', () => {
    expect(cleanText('  a\u0000b\tc\r\n\nd\u007f\u009fe  ', { html: false })).toBe('a b c d e');
  });

  it('reads literal \\n escapes as spaces only when asked', () => {
    expect(cleanText('Epson TM-300A\\nEpson TM-U210A', { html: false, literalEscapes: true })).toBe(
      'Epson TM-300A Epson TM-U210A',
    );
    expect(cleanText('C:\\new', { html: false })).toBe('C:\\new');
  });

  it('normalises to NFC and replaces lone surrogates', () => {
    expect(cleanText('Cafe\u0301', { html: false })).toBe('Café');
    expect(cleanText('a\ud800b', { html: false })).toBe('a\ufffdb');
  });
});

describe('lists', () => {
  it('parses list literals written by JSON and by Python', () => {
    expect(parseListLiteral('["00735858190046", "0735858190046"]')).toEqual(['00735858190046', '0735858190046']);
    expect(parseListLiteral(`['a', "b's", 'c\\'d']`)).toEqual(['a', "b's", "c'd"]);
    expect(parseListLiteral('[]')).toEqual([]);
    expect(parseListLiteral('[Refurbished] Laptop')).toBeUndefined();
    expect(parseListLiteral("['unterminated]")).toBeUndefined();
  });

  it('joins lists, real or literal, into text and refuses objects', () => {
    expect(value(toText(['a', null, ' ', 'b']))).toBe('a, b');
    expect(value(toText("['a', 'b']"))).toBe('a, b');
    expect(value(toText(12n))).toBe('12');
    expect(value(toText(new Date(Date.UTC(2020, 0, 2))))).toBe('2020-01-02T00:00:00.000Z');
    expect(value(toText(Buffer.from('bytes')))).toBe('bytes');
    expect(reason(toText({ a: 1 }))).toBe('an object, expected text');
    expect(reason(toText([['nested']]))).toBe('a nested list or object, expected text');
    expect(reason(toText(Number.NaN))).toBe('not a finite number');
  });

  it('splits a path on its separator unless it is a list', () => {
    expect(value(toTextList('Tools > Power Tools > Drills', '>'))).toEqual(['Tools ', ' Power Tools ', ' Drills']);
    expect(value(toTextList('["Tools","Drills"]', '>'))).toEqual(['Tools', 'Drills']);
    expect(value(toTextList(['Tools', '', 'Drills'], '>'))).toEqual(['Tools', 'Drills']);
  });

  it('calls null, blank text and empty lists blank, and nothing else', () => {
    expect([undefined, null, '', '  \t', [], [null, '']].every(isBlank)).toBe(true);
    expect([0, false, 'x', [0]].some(isBlank)).toBe(false);
  });
});

describe('parseDecimal', () => {
  it('reads numbers as numbers, bigints and text exactly', () => {
    expect(decimal(12.99)).toBe('12.99');
    expect(decimal('12.99')).toBe('12.99');
    expect(decimal(' +65.0 ')).toBe('65');
    expect(decimal(9007199254740993n)).toBe('9007199254740993');
    expect(decimal(1e21)).toBe('1000000000000000000000');
    expect(decimal('1.5e-3')).toBe('0.0015');
    expect(decimal('-0.50')).toBe('-0.5');
  });

  it('accepts thousands grouped in threes by the other separator', () => {
    expect(decimal('1,234,567.89')).toBe('1234567.89');
    expect(decimal('1.234,50', ',')).toBe('1234.5');
    expect(decimal('1 234,50', ',')).toBe('1234.5');
    expect(decimal('12,5', ',')).toBe('12.5');
  });

  it('refuses ambiguous or decorated numbers rather than guessing', () => {
    for (const raw of ['12,5', '1,23.4', '12.99 EUR', '$5', 'abc', '', '1.2.3', Number.POSITIVE_INFINITY, true]) {
      expect(parseDecimal(raw).ok, String(raw)).toBe(false);
    }
    expect(parseDecimal('12.5', ',').ok).toBe(false);
    expect(reason(parseDecimal('1'.repeat(41)))).toBe('more than 40 digits');
  });

  it('scales to minor units exactly, rounding half away from zero', () => {
    const d = (raw: string): Decimal => value(parseDecimal(raw));
    expect(toScaledInteger(d('12.99'), 2)).toBe(1299n);
    expect(toScaledInteger(d('0.1'), 2)).toBe(10n);
    expect(toScaledInteger(d('12.995'), 2)).toBe(1300n);
    expect(toScaledInteger(d('12.994'), 2)).toBe(1299n);
    expect(toScaledInteger(d('-12.995'), 2)).toBe(-1300n);
    expect(toScaledInteger(d('1500'), 0)).toBe(1500n);
  });

  it('knows currency exponents from ISO 4217', () => {
    expect(currencyDigits('EUR')).toBe(2);
    expect(currencyDigits('JPY')).toBe(0);
    expect(currencyDigits('BHD')).toBe(3);
  });
});

describe('parseBoolean', () => {
  it('reads booleans, 0/1 and the usual words in any case', () => {
    expect([true, 1, 'TRUE', ' yes ', 'Y', 'on', '1'].map((v) => value(parseBoolean(v)))).toEqual(Array(7).fill(true));
    expect([false, 0, 'False', 'no', 'N', 'off', '0'].map((v) => value(parseBoolean(v)))).toEqual(Array(7).fill(false));
    expect(parseBoolean('maybe').ok).toBe(false);
    expect(parseBoolean(2).ok).toBe(false);
  });
});

describe('parseInstant', () => {
  it('reads ISO dates as midnight UTC and date-times without offset as UTC', () => {
    expect(value(parseInstant('2007-03-29', 'auto'))).toBe(Date.UTC(2007, 2, 29));
    expect(value(parseInstant('2007-03-29T00:00:00Z', 'iso'))).toBe(Date.UTC(2007, 2, 29));
    expect(value(parseInstant('2007-03-29 10:30', 'auto'))).toBe(Date.UTC(2007, 2, 29, 10, 30));
    expect(value(parseInstant('2007-03-29T10:30:15.250+02:00', 'auto'))).toBe(Date.UTC(2007, 2, 29, 8, 30, 15, 250));
    expect(value(parseInstant('2007-03-29T10:30:00-0530', 'auto'))).toBe(Date.UTC(2007, 2, 29, 16, 0));
    // Years below 100 stay what they say (Date.UTC would make 0001 into 1901).
    expect(new Date(value(parseInstant('0001-01-01', 'iso'))).getUTCFullYear()).toBe(1);
  });

  it('reads epoch numbers as seconds or milliseconds', () => {
    expect(value(parseInstant(1_175_126_400, 'auto'))).toBe(1_175_126_400_000);
    expect(value(parseInstant(1_175_126_400_000, 'auto'))).toBe(1_175_126_400_000);
    expect(value(parseInstant('1175126400', 'epoch-seconds'))).toBe(1_175_126_400_000);
    expect(value(parseInstant(1_175_126_400n, 'epoch-millis'))).toBe(1_175_126_400);
    expect(value(parseInstant(new Date(5), 'auto'))).toBe(5);
  });

  it('refuses non-calendar dates, ambiguous formats and values of the wrong format', () => {
    expect(reason(parseInstant('2007-02-30', 'auto'))).toBe('not a calendar date');
    expect(reason(parseInstant('2007-01-01T24:00', 'auto'))).toBe('not a calendar date');
    expect(reason(parseInstant('03/04/2007', 'auto'))).toBe('not an ISO 8601 date');
    expect(reason(parseInstant('1175126400', 'iso'))).toBe('not an ISO 8601 date');
    expect(reason(parseInstant('2007-03-29', 'epoch-millis'))).toBe('not an epoch number (format epoch-millis)');
    expect(reason(parseInstant(new Date(Number.NaN), 'auto'))).toBe('invalid date');
  });
});

describe('preview', () => {
  it('shows a value briefly, whatever its type', () => {
    expect(preview('x'.repeat(100))).toHaveLength(60);
    expect(preview(5n)).toBe('5');
    expect(preview(Buffer.alloc(3))).toBe('<3 bytes>');
    expect(preview({ a: 1 })).toBe('{"a":1}');
  });
});
