/**
 * The one query normaliser: every component keys per-query features by its output, so a query
 * typed as "  Cordless  DRILL!! " and "cordless drill" share features.
 *  1. Unicode NFKC (full-width letters, ligatures and compatibility forms fold to their plain form);
 *  2. lower case (locale-independent);
 *  3. punctuation and symbols become spaces, except inside tokens where they carry meaning:
 *     decimal points and fractions (2.5, 1/2), hyphens and apostrophes between letters/digits
 *     (x-ray, men's), and # . + after letters/digits (c#, 3.5mm stays 3.5mm);
 *  4. whitespace (any Unicode space, tabs, newlines) collapses to one space; trimmed.
 * Control characters are removed. The result may be empty (a query of only punctuation).
 */
export function normalizeQuery(query: string): string {
  return query
    .normalize('NFKC')
    .toLowerCase()
    .replace(/\p{Cc}|\p{Cf}|\p{Co}/gu, ' ')
    .replace(/(?<=[\p{L}\p{N}])[-'’/.](?=[\p{L}\p{N}])/gu, (m) => `\uE000${m === '’' ? "'" : m}`)
    .replace(/(?<=[\p{L}\p{N}])[#+]+/gu, (m) => `\uE000${m}`)
    .replace(/(?<!\uE000)[\p{P}\p{S}]/gu, ' ')
    .replace(/\uE000/g, '')
    .replace(/\s+/gu, ' ')
    .trim();
}
