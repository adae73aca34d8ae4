/**
 * Durations as users write them on a command line: 500ms, 2s, 1.5s, 1m, 1h; 0 alone.
 */
export const ACCEPTED_DURATION_FORMS = 'a number with a unit ms, s, m or h (500ms, 2s, 1.5s, 1m), or 0';

/** The longest duration accepted: what setTimeout can wait for (2^31-1 ms, about 24 days). */
const MAX_MS = 2 ** 31 - 1;

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Milliseconds, or null when `text` is not a duration. */
export function parseDuration(text: string): number | null {
  const t = text.trim();
  if (t === '0') return 0;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(t);
  if (!m) return null;
  const ms = Math.round(Number(m[1]) * UNIT_MS[m[2]!]!);
  return Number.isFinite(ms) && ms <= MAX_MS ? ms : null;
}

/** 5000 -> '5s', 1500 -> '1.5s', 250 -> '250ms'. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  return `${ms / 1000}s`;
}
