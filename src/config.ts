/**
 * The command line and environment, parsed and validated into a Config.
 *
 * Every problem is a ConfigError: one line naming the flag (or variable) and what is
 * accepted. pidone exits 2 on it and spawns nothing.
 */
import yargs from 'yargs';
import { parseDuration, ACCEPTED_DURATION_FORMS } from './duration.js';
import type { RemapTable } from './exit-status.js';
import { ConfigError, DRAIN_DELAY_VAR, drainDelayFromEnv, shown, type Config } from './config-defaults.js';
import { ACCEPTED_SIGNAL_FORMS, suggestSignal } from './config-signal-spelling.js';
import type { RewriteTable } from './signal-policy.js';
import { parseSignal, type SignalName } from './signals.js';

export {
  ConfigError,
  defaultConfig,
  shown,
  type CompatMode,
  type Config,
  type LogFormat,
  type RemainingPolicy,
} from './config-defaults.js';

/** What the command line asked for besides running a command. */
export type ParseResult =
  | { readonly kind: 'run'; readonly config: Config }
  | { readonly kind: 'help' }
  | { readonly kind: 'version' }
  /** Print this text and exit 0 (compat modes: tini's -l, dumb-init's -V, which go to stderr). */
  | { readonly kind: 'print'; readonly text: string; readonly stream?: 'stdout' | 'stderr' };

interface OptionSpec {
  readonly name: string;
  readonly alias?: string;
  readonly type: 'boolean' | 'string' | 'count';
  readonly describe: string;
  readonly group: string;
  readonly valueName?: string;
}

const GROUP_CHILD = 'The child:';
const GROUP_SIGNALS = 'Signals:';
const GROUP_EXIT = 'Exit and what remains:';
const GROUP_LOGS = 'Logging:';
const GROUP_OTHER = 'Other:';

/** Every flag pidone accepts; drives yargs and the unknown-flag check alike. */
export const OPTIONS: readonly OptionSpec[] = [
  { name: 'single-child', type: 'boolean', group: GROUP_SIGNALS, describe: 'Forward signals to the child only, not to its process group' },
  { name: 'rewrite', type: 'string', group: GROUP_SIGNALS, valueName: 'FROM:TO', describe: 'Forward signal FROM as TO (names or numbers; TO 0 or none drops FROM). Repeatable' },
  { name: 'setsid', type: 'boolean', group: GROUP_CHILD, describe: 'Run the child in a new session instead of a new process group' },
  { name: 'subreaper', alias: 's', type: 'boolean', group: GROUP_CHILD, describe: 'Become a child subreaper (automatic when not PID 1); --no-subreaper to refuse' },
  { name: 'pid-ns', type: 'boolean', group: GROUP_CHILD, describe: 'Run in a new PID namespace (with a fresh /proc) as its PID 1: nothing started inside outlives pidone' },
  { name: 'pdeathsig', type: 'string', group: GROUP_SIGNALS, valueName: 'SIG', describe: "Receive SIG (and handle it like any signal) when pidone's parent dies" },
  { name: 'allow-nested', type: 'boolean', group: GROUP_CHILD, describe: 'Allow the command to be pidone itself' },
  { name: 'remaining', type: 'string', group: GROUP_EXIT, valueName: 'kill|wait|leave', describe: 'When the child exits: kill what remains (TERM, grace, KILL), wait for it, or leave it (default kill)' },
  { name: 'grace', type: 'string', group: GROUP_EXIT, valueName: 'DURATION', describe: 'Time between TERM and KILL for what remains: 500ms, 2s, 1m; 0 kills at once (default 5s)' },
  { name: 'drain-delay', type: 'string', group: GROUP_SIGNALS, valueName: 'DURATION', describe: `Hold the first SIGTERM this long before forwarding it, while the child keeps serving; a second TERM, INT or QUIT forwards at once (default 0; env ${DRAIN_DELAY_VAR})` },
  { name: 'remap-exit', type: 'string', group: GROUP_EXIT, valueName: 'N[:M]', describe: "Exit 0 (or M) instead of the child's exit code N. Repeatable" },
  { name: 'warn-on-reap', type: 'boolean', group: GROUP_LOGS, describe: 'Log every reaped orphan at warn level' },
  { name: 'verbose', alias: 'v', type: 'count', group: GROUP_LOGS, describe: 'More logs: -v info, -vv debug, -vvv trace (default warn)' },
  { name: 'log-format', type: 'string', group: GROUP_LOGS, valueName: 'json|pretty', describe: 'Log format (default json, pretty when stderr is a terminal)' },
  { name: 'help', alias: 'h', type: 'boolean', group: GROUP_OTHER, describe: 'Show this help' },
  { name: 'version', type: 'boolean', group: GROUP_OTHER, describe: 'Show the version' },
];

const USAGE = 'pidone [options] [--] command [args...]';
const HINT = "run 'pidone --help' for the options";

function fail(message: string): never {
  throw new ConfigError(`pidone: ${message}`);
}

/**
 * The flags before the command: everything up to the first non-option, or up to `--`.
 * Checks each against OPTIONS so that an unknown one is named as the user wrote it.
 */
function checkFlags(argv: readonly string[]): void {
  const byLong = new Map(OPTIONS.map((o) => [o.name, o]));
  const byShort = new Map(OPTIONS.filter((o) => o.alias).map((o) => [o.alias!, o]));
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--' || !arg.startsWith('-') || arg === '-') return;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      let name = arg.slice(2, eq < 0 ? undefined : eq);
      let spec = byLong.get(name);
      if (!spec && name.startsWith('no-')) {
        const positive = byLong.get(name.slice(3));
        if (positive?.type === 'boolean') {
          spec = positive;
          name = positive.name;
        }
      }
      if (!spec) fail(`unknown option '${shown(arg.slice(0, eq < 0 ? undefined : eq))}' (${HINT})`);
      if (spec.type === 'string' && eq < 0) {
        const value = argv[i + 1];
        if (value === undefined) fail(`option '--${name}' needs a value ${spec.valueName ?? ''}`.trimEnd());
        i++;
      }
      continue;
    }
    // A cluster of short flags: -vvv, -sv.
    for (const letter of arg.slice(1)) {
      if (!byShort.has(letter)) fail(`unknown option '-${shown(letter)}' (${HINT})`);
    }
  }
}

function asList(value: unknown): string[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).map(String);
}

function parseSignalOrFail(flag: string, text: string): SignalName {
  const signal = parseSignal(text);
  if (signal !== null) return signal;
  const suggestion = suggestSignal(text);
  fail(
    `${flag}: unknown signal '${shown(text)}'${suggestion ? ` (did you mean ${suggestion}?)` : ''}; accepted: ${ACCEPTED_SIGNAL_FORMS}`,
  );
}

export function parseRewrite(values: readonly string[]): RewriteTable {
  const table = new Map<SignalName, SignalName | null>();
  for (const value of values) {
    const m = /^([^:]+):([^:]+)$/.exec(value.trim());
    if (!m) fail(`--rewrite: '${shown(value)}' is not FROM:TO (e.g. TERM:INT, 15:2, or WINCH:0 to drop)`);
    const from = parseSignalOrFail('--rewrite', m[1]!);
    const to = m[2] === '0' || m[2]!.toLowerCase() === 'none' ? null : parseSignalOrFail('--rewrite', m[2]!);
    if (from === 'SIGKILL' || from === 'SIGSTOP') fail(`--rewrite: ${from} cannot be caught, so it cannot be rewritten`);
    table.set(from, to);
  }
  return table;
}

function exitCodeValue(text: string): number | null {
  if (!/^\d{1,3}$/.test(text)) return null;
  const n = Number(text);
  return n <= 255 ? n : null;
}

export function parseRemapExit(values: readonly string[]): RemapTable {
  const table = new Map<number, number>();
  for (const value of values) {
    const [fromText, toText, extra] = value.trim().split(':');
    const from = exitCodeValue(fromText ?? '');
    const to = toText === undefined ? 0 : exitCodeValue(toText);
    if (from === null || to === null || extra !== undefined) {
      fail(`--remap-exit: '${shown(value)}' is not an exit code 0-255, or FROM:TO with both 0-255`);
    }
    table.set(from, to);
  }
  return table;
}

function oneOf<T extends string>(flag: string, value: unknown, accepted: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  const list = asList(value);
  const last = list[list.length - 1]!;
  if ((accepted as readonly string[]).includes(last)) return last as T;
  fail(`${flag}: '${shown(last)}' is not one of ${accepted.join(', ')}`);
}

/** A duration flag's value in ms, or `fallback` when the flag is absent. */
function durationFlag(flag: string, value: unknown, fallback: () => number): number {
  const text = asList(value).pop();
  if (text === undefined) return fallback();
  const ms = parseDuration(text);
  if (ms === null) fail(`${flag}: '${shown(text)}' is not a duration; accepted: ${ACCEPTED_DURATION_FORMS}`);
  return ms;
}

/**
 * Parse pidone's arguments (without node and the script). `env` is read for what a
 * flag may also be given by (PIDONE_DRAIN_DELAY), the flag winning.
 */
export function parseArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): ParseResult {
  checkFlags(argv);
  const parsed = yargs([...argv])
    .parserConfiguration({
      'halt-at-non-option': true,
      'populate--': true,
      'parse-numbers': false,
      'parse-positional-numbers': false,
      'camel-case-expansion': false,
      'boolean-negation': true,
    })
    .help(false)
    .version(false)
    .options(yargsOptions())
    .exitProcess(false)
    .fail((message: string) => {
      fail(message);
    })
    .parseSync() as Record<string, unknown>;

  if (parsed['help'] === true) return { kind: 'help' };
  if (parsed['version'] === true) return { kind: 'version' };

  const command = [...asList(parsed['_']), ...asList(parsed['--'])];
  if (command.length === 0) fail(`no command given; usage: ${USAGE}`);
  if (command[0] === '') fail('the command is an empty string');

  const graceMs = durationFlag('--grace', parsed['grace'], () => 5000);
  const drainDelayMs = durationFlag('--drain-delay', parsed['drain-delay'], () => drainDelayFromEnv(env));

  const subreaperFlag = asList(parsed['subreaper']).pop();
  const pdeathsig = asList(parsed['pdeathsig']).pop();
  return {
    kind: 'run',
    config: {
      command,
      singleChild: parsed['single-child'] === true,
      setsid: parsed['setsid'] === true,
      subreaper: subreaperFlag === undefined ? 'auto' : subreaperFlag === 'true' ? 'on' : 'off',
      rewrite: parseRewrite(asList(parsed['rewrite'])),
      remapExit: parseRemapExit(asList(parsed['remap-exit'])),
      warnOnReap: parsed['warn-on-reap'] === true,
      verbosity: Number(parsed['verbose'] ?? 0),
      logFormat: oneOf('--log-format', parsed['log-format'], ['json', 'pretty'] as const),
      remaining: oneOf('--remaining', parsed['remaining'], ['kill', 'wait', 'leave'] as const) ?? 'kill',
      graceMs,
      drainDelayMs,
      allowNested: parsed['allow-nested'] === true,
      pidNamespace: parsed['pid-ns'] === true,
      parentDeathSignal: pdeathsig === undefined ? null : parseSignalOrFail('--pdeathsig', pdeathsig),
      compat: 'none',
      stopWithChild: false,
      termGroupOnExit: false,
    },
  };
}

function yargsOptions(): Record<string, import('yargs').Options> {
  const out: Record<string, import('yargs').Options> = {};
  for (const o of OPTIONS) {
    out[o.name] = {
      type: o.type,
      describe: o.describe,
      group: o.group,
      ...(o.alias ? { alias: o.alias } : {}),
      ...(o.valueName ? { requiresArg: true } : {}),
    };
  }
  return out;
}

/** The --help text, grouped as in docs/usage.md. */
export function helpText(): string {
  const lines = [`Usage: ${USAGE}`, '', 'A container init: runs command as its child, forwards signals to it, reaps zombies,', 'and exits with its status.', ''];
  const groups = [...new Set(OPTIONS.map((o) => o.group))];
  for (const group of groups) {
    lines.push(group);
    for (const o of OPTIONS.filter((x) => x.group === group)) {
      const flag = `${o.alias ? `-${o.alias}, ` : '    '}--${o.name}${o.valueName ? ` ${o.valueName}` : ''}`;
      lines.push(`  ${flag.padEnd(34)} ${o.describe}`);
    }
    if (group === GROUP_OTHER) {
      lines.push(`  ${'    --compat tini|dumb-init|none'.padEnd(34)} First argument only: take tini's or dumb-init's command line (docs/compat.md)`);
    }
    lines.push('');
  }
  lines.push(
    "Exit: the child's code; 128+n if signal n killed it; 127 command not found; 126 not executable;",
    '2 bad usage; 1 pidone could not start; 125 internal error (a bug). Docs: docs/usage.md',
  );
  return `${lines.join('\n')}\n`;
}
