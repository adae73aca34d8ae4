/**
 * How a signal may be written where a user writes one (the command line, the
 * environment, a pidone-sim scenario file), and the "did you mean" hint for a name
 * that is not one. parseSignal() in src/signals.ts does the parsing; this is what
 * the error message around a failed parse says.
 */
import { constants } from 'node:os';
import { parseSignal, type SignalName } from './signals.js';

export const ACCEPTED_SIGNAL_FORMS = 'a name (TERM, SIGTERM, RTMIN+3) or a number 1-64';

/**
 * A close name for an unknown one, for "did you mean" hints (one edit away, or the
 * same letters without the SIG prefix). Only the standard names and their aliases
 * are candidates: the real-time ones are numbered, not spelt.
 */
export function suggestSignal(text: string): SignalName | null {
  const upper = text.trim().toUpperCase().replace(/^SIG/, '');
  let best: SignalName | null = null;
  // Short names are too easily one or two edits from an unrelated one (FOO -> IO).
  let bestDistance = upper.length >= 4 ? 3 : 2;
  for (const name of Object.keys(constants.signals)) {
    const d = editDistance(upper, name.slice(3));
    if (d < bestDistance) {
      // An alias (SIGIOT) is suggested by the name it stands for (SIGABRT).
      const signal = parseSignal(name);
      if (signal === null) continue;
      bestDistance = d;
      best = signal;
    }
  }
  return best;
}

/** Optimal string alignment distance: edits, with a swap of two neighbours as one. */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}
