import { describe, expect, it } from 'vitest';
import { normalizeQuery } from './normalize-query.ts';

describe('normalizeQuery', () => {
  it.each([
    ['  Cordless  DRILL!! ', 'cordless drill'],
    ['ＣＯＲＤＬＥＳＳ　ｄｒｉｌｌ', 'cordless drill'], // full-width letters and ideographic space (NFKC)
    ['ﬁre pit', 'fire pit'], // ligature
    ['Drill\tbits\nset', 'drill bits set'],
    ['2.5 inch screws', '2.5 inch screws'],
    ['1/2" pipe', '1/2 pipe'],
    ["men's boots", "men's boots"],
    ['men’s boots', "men's boots"],
    ['x-ray film', 'x-ray film'],
    ['c# book', 'c# book'],
    ['AT&T phone', 'at t phone'],
    ['(white) paint, 5 gal.', 'white paint 5 gal'],
    ['Straße', 'straße'],
    ['DEWALT 20V MAX*', 'dewalt 20v max'],
    ['!!!', ''],
    ['a\u0000b\u200bc', 'a b c'],
  ])('%j → %j', (input, expected) => {
    expect(normalizeQuery(input)).toBe(expected);
  });

  it('is idempotent', () => {
    for (const q of ['  Cordless  DRILL!! ', '1/2" pipe', 'Men’s x-ray C# 2.5mm']) {
      expect(normalizeQuery(normalizeQuery(q))).toBe(normalizeQuery(q));
    }
  });
});
