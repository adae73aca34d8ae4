/**
 * `--compat tini`: tini 0.19's command line, environment and defaults, translated into
 * a pidone Config. Pure: reads only its arguments. What pidone does differently from
 * tini, and why, is in docs/compat.md.
 *
 * tini's rules, as reproduced here:
 * - getopt with permutation: options may follow the program unless `--` comes first
 *   (`tini echo -l` prints the licence), as POSIXLY_CORRECT turns off.
 * - `--version` counts only as the one and only argument; anywhere else getopt sees
 *   the letters of "--version" and rejects '-'.
 * - Options act in order: -h and -l print and exit 0 as soon as they are reached; a
 *   bad option or value exits 1 there, whatever follows.
 * - -s or TINI_SUBREAPER (any value, even empty) makes it a subreaper; without either
 *   it is not one, and warns when it is not PID 1 either.
 * - Signals go to the child alone; -g or TINI_KILL_PROCESS_GROUP (any value) sends
 *   them to its process group.
 * - -e N (0-255, repeatable) turns the child's exit code N into 0.
 * - -v raises the verbosity from tini's default of 1; TINI_VERBOSITY replaces it
 *   (atoi: "abc" is 0, which silences warnings).
 * - When the main child has exited, tini exits at once: what remains is left.
 * - Signals: tini ignores SIGTTIN and SIGTTOU, and leaves SIGABRT, SIGSEGV, SIGBUS,
 *   SIGILL, SIGFPE, SIGTRAP and SIGSYS at their default action (a sent one kills tini
 *   and orphans the child; as PID 1 the kernel drops it). pidone forwards every one of
 *   them when it is sent, in tini mode too: a signal sent to the init is meant for the
 *   child, and none of these does anything useful to tini (docs/compat.md).
 */
// Not ../config.js at run time: that loads yargs, which compat modes do not need.
import { compatConfig, ConfigError } from '../config-defaults.js';
import type { ParseResult } from '../config.js';
import { isSignalName, STANDARD_SIGNAL_NAMES, type SignalName } from '../signals.js';
import { getopt } from './getopt.js';

/** The tini release whose behaviour pidone follows, as `--version` reports it. */
export const TINI_VERSION = '0.19.0';

/** tini's exit code for a bad command line. */
export const TINI_USAGE_EXIT = 1;

/** The standard signals tini's table of -p names leaves out. */
const NOT_IN_TINIS_TABLE: ReadonlySet<SignalName> = new Set<SignalName>(['SIGSTKFLT', 'SIGIO', 'SIGPWR']);

/** The names tini's -p accepts: exactly these spellings, SIG prefix and capitals included. */
export const TINI_PDEATHSIG_NAMES: readonly SignalName[] = STANDARD_SIGNAL_NAMES.filter((name) => !NOT_IN_TINIS_TABLE.has(name));

export interface CompatParseOptions {
  /** argv[0] as the user typed it, for getopt's messages; default the tool's name. */
  readonly programName?: string;
  /** The pid tini's "[FATAL tini (PID)]" lines show; default this process's. */
  readonly pid?: number;
}

/**
 * `tini --version`, as Debian's tini 0.19 prints it. docker info reads the version from
 * this line (docs/compat.md); upstream's static builds add " - git.de40ad0", which
 * names a commit of tini that pidone is not.
 */
export function tiniVersionLine(): string {
  return `tini version ${TINI_VERSION}`;
}

/** tini's usage text, as tini 0.19 prints it (for -h on stdout, for errors on stderr). */
export function tiniUsage(programName = 'tini'): string {
  const name = basename(programName);
  return [
    `${name} (${tiniVersionLine()})`,
    `Usage: ${name} [OPTIONS] PROGRAM -- [ARGS] | --version`,
    '',
    `Execute a program under the supervision of a valid init process (${name})`,
    '',
    'Command line options:',
    '',
    '  --version: Show version and exit.',
    '  -h: Show this help message and exit.',
    '  -s: Register as a process subreaper (requires Linux >= 3.4).',
    '  -p SIGNAL: Trigger SIGNAL when parent dies, e.g. "-p SIGKILL".',
    '  -v: Generate more verbose output. Repeat up to 3 times.',
    '  -w: Print a warning when processes are getting reaped.',
    "  -g: Send signals to the child's process group.",
    '  -e EXIT_CODE: Remap EXIT_CODE (from 0 to 255) to 0.',
    '  -l: Show license and exit.',
    '',
    'Environment variables:',
    '',
    '  TINI_SUBREAPER: Register as a process subreaper (requires Linux >= 3.4).',
    '  TINI_VERBOSITY: Set the verbosity level (default: 1).',
    "  TINI_KILL_PROCESS_GROUP: Send signals to the child's process group.",
    '',
    '',
  ].join('\n');
}

export function pidoneLicence(pidoneVersion: string): string {
  return [
    'The MIT License (MIT)',
    '',
    `pidone ${pidoneVersion}, here standing in for tini, is released under the MIT License:`,
    '',
    'Permission is hereby granted, free of charge, to any person obtaining a copy',
    'of this software and associated documentation files (the "Software"), to deal',
    'in the Software without restriction, including without limitation the rights',
    'to use, copy, modify, merge, publish, distribute, sublicense, and/or sell',
    'copies of the Software, and to permit persons to whom the Software is',
    'furnished to do so, subject to the following conditions:',
    '',
    'The above copyright notice and this permission notice shall be included in',
    'all copies or substantial portions of the Software.',
    '',
    'THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR',
    'IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,',
    'FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE',
    'AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER',
    'LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,',
    'OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN',
    'THE SOFTWARE.',
    '',
  ].join('\n');
}

/** A `print` result, with the stream the tool writes it to (tini: stdout; dumb-init: stderr). */
export function printResult(text: string, stream: 'stdout' | 'stderr'): ParseResult {
  return { kind: 'print', text, stream };
}

/** tini's strtol check for -e: optional blanks and sign, digits to the end; "" is 0. */
export function tiniExitCode(text: string): number | null {
  if (text === '') return 0;
  if (!/^[ \t\n\v\f\r]*[+-]?\d+$/.test(text)) return null;
  const n = Number(text.trim());
  return Number.isInteger(n) && n >= 0 && n <= 255 ? Math.abs(n) : null;
}

/** C's atoi: leading blanks, a sign, as many digits as there are; 0 when none. */
export function atoi(text: string): number {
  const m = /^[ \t\n\v\f\r]*([+-]?\d+)/.exec(text);
  if (!m) return 0;
  const n = Number(m[1]);
  return Math.max(-(2 ** 31), Math.min(2 ** 31 - 1, n));
}

/**
 * tini's verbosity (0 fatal only, 1 warnings, 2 info, 3 debug, 4 trace) as pidone's
 * (-1 errors only, 0 warn, 1 info, 2 debug, 3 trace).
 */
export function tiniVerbosityToPidone(level: number): number {
  return Math.max(-1, level - 1);
}

export function parseTiniArgs(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  version: string,
  options: CompatParseOptions = {},
): ParseResult {
  const programName = options.programName ?? 'tini';
  const pid = options.pid ?? process.pid;
  const fatal = (message: string): never => {
    throw new ConfigError(`[FATAL tini (${pid})] ${message}`, TINI_USAGE_EXIT);
  };
  const usageError = (getoptMessage?: string): never => {
    // main.ts ends the message with a newline; the usage ends with its own.
    const usage = tiniUsage(programName).slice(0, -1);
    throw new ConfigError(getoptMessage ? `${getoptMessage}\n${usage}` : usage, TINI_USAGE_EXIT);
  };

  if (argv.length === 1 && argv[0] === '--version') return printResult(`${tiniVersionLine()}\n`, 'stdout');

  let subreaper = false;
  let verbosity = 1;
  let warnOnReap = false;
  let killGroup = false;
  let parentDeathSignal: SignalName | null = null;
  const remapExit = new Map<number, number>();
  // Set from inside the scan's callback.
  const outcome: { early: ParseResult | null; error: string | null } = { early: null, error: null };

  const command = getopt(argv, { shortOptions: 'p:hvwgle:s', programName, env }, (event) => {
    if (event.kind === 'error') {
      outcome.error = event.message;
      return false;
    }
    switch (event.option) {
      case 'h':
        outcome.early = printResult(tiniUsage(programName), 'stdout');
        return false;
      case 'l':
        outcome.early = printResult(pidoneLicence(version), 'stdout');
        return false;
      case 's':
        subreaper = true;
        return true;
      case 'v':
        verbosity++;
        return true;
      case 'w':
        warnOnReap = true;
        return true;
      case 'g':
        killGroup = true;
        return true;
      case 'p': {
        const value = event.value ?? '';
        if (!isSignalName(value) || !TINI_PDEATHSIG_NAMES.includes(value)) return fatal(`Not a valid option for -p: ${value}`);
        parentDeathSignal = value;
        return true;
      }
      case 'e': {
        const value = event.value ?? '';
        const code = tiniExitCode(value);
        if (code === null) return fatal(`Not a valid option for -e: ${value}`);
        remapExit.set(code, 0);
        return true;
      }
      default:
        return true;
    }
  });
  if (outcome.early !== null) return outcome.early;
  if (outcome.error !== null || command === null) return usageError(outcome.error ?? undefined);
  if (command.length === 0) return usageError();

  if (env['TINI_SUBREAPER'] !== undefined) subreaper = true;
  if (env['TINI_KILL_PROCESS_GROUP'] !== undefined) killGroup = true;
  const envVerbosity = env['TINI_VERBOSITY'];
  if (envVerbosity !== undefined) verbosity = atoi(envVerbosity);

  // What tini changes from pidone's defaults; the rest (the settings' variables,
  // PIDONE_DRAIN_DELAY included) is as in every mode.
  const config = compatConfig('tini', command, env, {
    singleChild: !killGroup,
    subreaper: subreaper ? 'on' : 'off',
    remapExit,
    warnOnReap,
    verbosity: tiniVerbosityToPidone(verbosity),
    parentDeathSignal,
    remaining: 'leave',
  });
  return { kind: 'run', config };
}

function basename(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? path : path.slice(slash + 1);
}
