/**
 * The command-line scanning of glibc's getopt(3) and getopt_long(3), which tini and
 * dumb-init use, reproduced closely enough that a command line means the same thing
 * to pidone as to them, errors included:
 *
 * - short options, clustered (`-sgv`), with required arguments attached (`-e5`) or in
 *   the next word (`-e 5`);
 * - long options (getopt_long): `--name`, `--name=value`, `--name value`, and any
 *   unambiguous prefix of a name (`--single` for `--single-child`);
 * - `--` ends the options;
 * - permutation: unless the option string starts with '+' or POSIXLY_CORRECT is set,
 *   words that are not options are set aside and scanning goes on, so
 *   `tini echo -l` means `tini -l echo`. tini relies on this (its usage line asks for
 *   `--` before the program's arguments); dumb-init turns it off with '+'.
 *
 * Options are handed to the caller one at a time, in order, so that a tool that acts
 * on an option at once (tini's -h, dumb-init's -V) does so before looking further.
 */

export interface LongOption {
  readonly name: string;
  readonly hasArg: boolean;
  /** The short option this long one stands for. */
  readonly short: string;
}

export interface GetoptSpec {
  /** getopt's option string: letters, ':' after one that takes an argument, optional leading '+'. */
  readonly shortOptions: string;
  readonly longOptions?: readonly LongOption[];
  /** What getopt's messages start with (its argv[0]). */
  readonly programName: string;
  /** The environment, for POSIXLY_CORRECT. */
  readonly env: NodeJS.ProcessEnv;
}

export type GetoptEvent =
  | { readonly kind: 'option'; readonly option: string; readonly value: string | undefined }
  /** getopt returned '?' (or ':'), after printing `message` on stderr. */
  | { readonly kind: 'error'; readonly message: string };

/**
 * Scan `argv` (without the program name). `onEvent` is called for each option in
 * order; returning false stops the scan (the tool exits there). Returns the operands:
 * the words that are not options, in order, then everything after `--`.
 */
export function getopt(argv: readonly string[], spec: GetoptSpec, onEvent: (event: GetoptEvent) => boolean): string[] | null {
  const permute = !spec.shortOptions.startsWith('+') && spec.env['POSIXLY_CORRECT'] === undefined;
  const letters = parseShortOptions(spec.shortOptions.replace(/^[+-]/, ''));
  const operands: string[] = [];
  let i = 0;
  while (i < argv.length) {
    const word = argv[i]!;
    if (word === '--') {
      operands.push(...argv.slice(i + 1));
      return operands;
    }
    if (!word.startsWith('-') || word === '-') {
      if (!permute) {
        operands.push(...argv.slice(i));
        return operands;
      }
      operands.push(word);
      i++;
      continue;
    }
    if (word.startsWith('--') && spec.longOptions) {
      const consumed = longOption(argv, i, spec, onEvent);
      if (consumed === null) return null;
      i += consumed;
      continue;
    }
    // A cluster of short options. With no long options, "--x" is scanned as the
    // letters '-' and 'x' (that is how getopt treats it), so '-' is an invalid option.
    let j = 1;
    let next = i + 1;
    while (j < word.length) {
      const letter = word[j]!;
      const takesArg = letters.get(letter);
      if (takesArg === undefined) {
        if (!onEvent({ kind: 'error', message: `${spec.programName}: invalid option -- '${letter}'` })) return null;
        j++;
        continue;
      }
      if (!takesArg) {
        if (!onEvent({ kind: 'option', option: letter, value: undefined })) return null;
        j++;
        continue;
      }
      let value: string;
      if (j + 1 < word.length) {
        value = word.slice(j + 1);
      } else if (next < argv.length) {
        value = argv[next]!;
        next++;
      } else {
        onEvent({ kind: 'error', message: `${spec.programName}: option requires an argument -- '${letter}'` });
        return null;
      }
      if (!onEvent({ kind: 'option', option: letter, value })) return null;
      break;
    }
    i = next;
  }
  return operands;
}

/** Letter -> takes an argument. */
function parseShortOptions(text: string): Map<string, boolean> {
  const out = new Map<string, boolean>();
  for (let k = 0; k < text.length; k++) {
    const letter = text[k]!;
    if (letter === ':') continue;
    out.set(letter, text[k + 1] === ':');
  }
  return out;
}

/** One `--name[=value]` word (and its value word). Returns the words consumed, or null to stop. */
function longOption(
  argv: readonly string[],
  i: number,
  spec: GetoptSpec,
  onEvent: (event: GetoptEvent) => boolean,
): number | null {
  const word = argv[i]!;
  const eq = word.indexOf('=');
  const name = word.slice(2, eq < 0 ? undefined : eq);
  const attached = eq < 0 ? undefined : word.slice(eq + 1);
  const options = spec.longOptions ?? [];
  const exact = options.find((o) => o.name === name);
  const candidates = exact ? [exact] : options.filter((o) => o.name.startsWith(name));
  const report = (message: string): number | null => {
    // getopt_long returns '?' for each of these; both tools exit on it.
    onEvent({ kind: 'error', message: `${spec.programName}: ${message}` });
    return null;
  };
  if (candidates.length === 0) return report(`unrecognized option '--${name}'`);
  if (candidates.length > 1) {
    return report(`option '--${name}' is ambiguous; possibilities:${candidates.map((o) => ` '--${o.name}'`).join('')}`);
  }
  const option = candidates[0]!;
  if (!option.hasArg) {
    if (attached !== undefined) return report(`option '--${option.name}' doesn't allow an argument`);
    return onEvent({ kind: 'option', option: option.short, value: undefined }) ? 1 : null;
  }
  if (attached !== undefined) return onEvent({ kind: 'option', option: option.short, value: attached }) ? 1 : null;
  if (i + 1 >= argv.length) return report(`option '--${option.name}' requires an argument`);
  return onEvent({ kind: 'option', option: option.short, value: argv[i + 1]! }) ? 2 : null;
}
