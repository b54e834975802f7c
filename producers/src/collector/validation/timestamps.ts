/**
 * ISO-8601 date-times as browsers and back ends send them: `2024-12-10T00:01:29.378Z`,
 * `2024-12-10T00:01:29+01:00`, `+0100`, seconds and fractions optional. A zone is required here:
 * without one the instant is ambiguous (the UBI mapping decides that case for itself).
 */
const ISO_DATE_TIME = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2})?)(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})$/i;

/** Epoch milliseconds of an ISO-8601 date-time with a zone, or undefined if it is not one. */
export function parseIsoDateTime(text: string): number | undefined {
  const match = ISO_DATE_TIME.exec(text);
  if (!match) return undefined;
  const [, dateTime, fraction, zone] = match as unknown as [string, string, string | undefined, string];
  // Date.parse reads at most milliseconds and wants a colon in the offset.
  const millis = fraction === undefined ? '' : `.${fraction.slice(0, 3).padEnd(3, '0')}`;
  const offset = zone.length === 5 ? `${zone.slice(0, 3)}:${zone.slice(3)}` : zone.toUpperCase();
  const ms = Date.parse(`${dateTime}${millis}${offset}`);
  return Number.isNaN(ms) ? undefined : ms;
}

const UNITS: readonly (readonly [number, string])[] = [
  [86_400_000, 'day'],
  [3_600_000, 'hour'],
  [60_000, 'minute'],
  [1_000, 'second'],
];

/** "30 days", "5 minutes", "1500 ms": for messages that state a configured bound. */
export function formatDuration(ms: number): string {
  for (const [size, unit] of UNITS) {
    if (ms >= size && ms % size === 0) {
      const n = ms / size;
      return `${n} ${unit}${n === 1 ? '' : 's'}`;
    }
  }
  return `${ms} ms`;
}
