/**
 * pidone's command line: flags (from the table of settings in src/config-defaults.ts)
 * parsed into a Config, and --help.
 *
 * Every problem is a ConfigError: one line naming the flag (or variable) and what is
 * accepted. pidone exits 2 on it and spawns nothing.
 */
import yargs from 'yargs';
import {
  baseConfig,
  fail,
  GROUP_OTHER,
  settingEntries,
  unknownOption,
  type Config,
  type SettingKey,
} from './config-defaults.js';

export {
  ConfigError,
  defaultConfig,
  parseRemapExit,
  parseRewrite,
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

export interface OptionSpec {
  readonly name: string;
  readonly alias?: string;
  readonly type: 'boolean' | 'string' | 'count';
  /** The help line, the default (printed from the setting) included. */
  readonly describe: string;
  readonly group: string;
  readonly valueName?: string;
  /** The setting it sets; none for --help and --version. */
  readonly key?: SettingKey;
}

/** Every flag pidone accepts, from SETTINGS; drives yargs, the unknown-flag check and --help. */
export const OPTIONS: readonly OptionSpec[] = [
  ...settingEntries().flatMap(([key, setting]): OptionSpec[] => {
    const flag = setting.flag;
    if (flag === undefined) return [];
    // The default and the variable, printed from the table, never written in the prose.
    const variable = 'env' in flag && flag.env !== undefined ? `; env ${flag.env}` : '';
    const shownDefault = flag.kind === 'value' || flag.kind === 'count' ? ` (default ${flag.showDefault(setting.default())}${variable})` : '';
    return [
      {
        name: flag.name,
        ...(flag.alias !== undefined ? { alias: flag.alias } : {}),
        type: flag.kind === 'switch' ? 'boolean' : flag.kind === 'count' ? 'count' : 'string',
        describe: flag.describe + shownDefault,
        group: flag.group,
        ...(flag.kind === 'value' || flag.kind === 'list' ? { valueName: flag.valueName } : {}),
        key,
      },
    ];
  }),
  { name: 'help', alias: 'h', type: 'boolean', group: GROUP_OTHER, describe: 'Show this help' },
  { name: 'version', type: 'boolean', group: GROUP_OTHER, describe: 'Show the version' },
];

const USAGE = 'pidone [options] [--] command [args...]';

/**
 * The flags before the command: everything up to the first non-option, or up to `--`.
 * Checks each against OPTIONS so that an unknown one is named as the user wrote it,
 * and returns where the flags end (the index of `--` or of the command).
 */
function checkFlags(argv: readonly string[]): number {
  const byLong = new Map(OPTIONS.map((o) => [o.name, o]));
  const byShort = new Map(OPTIONS.filter((o) => o.alias).map((o) => [o.alias!, o]));
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--' || !arg.startsWith('-') || arg === '-') return i;
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
      if (!spec) unknownOption(arg.slice(0, eq < 0 ? undefined : eq));
      if (spec.type === 'string' && eq < 0) {
        const value = argv[i + 1];
        if (value === undefined) fail(`option '--${name}' needs a value ${spec.valueName ?? ''}`.trimEnd());
        i++;
      }
      continue;
    }
    // A cluster of short flags: -vvv, -sv.
    for (const letter of arg.slice(1)) {
      if (!byShort.has(letter)) unknownOption(`-${letter}`);
    }
  }
  return argv.length;
}

function asList(value: unknown): string[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).map(String);
}

/**
 * Parse pidone's arguments (without node and the script). `env` holds the settings'
 * variables (PIDONE_GRACE...), read for each flag not given; the command line's pidone
 * passes its environment, the library none.
 */
export function parseArgs(argv: readonly string[], env: NodeJS.ProcessEnv = {}): ParseResult {
  const end = checkFlags(argv);
  // yargs sees the command after a `--` of its own: else a command named true or false
  // after a switch (`pidone -v true`) would be taken as the switch's value.
  const flagsThenCommand = argv[end] === '--' ? [...argv] : [...argv.slice(0, end), '--', ...argv.slice(end)];
  const parsed = yargs(flagsThenCommand)
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

  const fromFlags: Record<string, unknown> = {};
  for (const [key, setting] of settingEntries()) {
    const flag = setting.flag;
    if (flag === undefined) continue;
    const where = `--${flag.name}`;
    const given = parsed[flag.name];
    if (flag.kind === 'count') {
      const count = Number(given ?? 0);
      if (count > 0) fromFlags[key] = flag.fromCount(count);
      continue;
    }
    if (given === undefined) continue;
    const values = asList(given);
    if (flag.kind === 'switch') fromFlags[key] = flag.fromSwitch(values[values.length - 1] === 'true');
    else if (flag.kind === 'value') fromFlags[key] = flag.parse(values[values.length - 1]!, where);
    else fromFlags[key] = flag.parse(values, where);
  }
  // The flags win over the variables: a variable is read only for a flag not given.
  const config: Config = { ...baseConfig(command, env, new Set(Object.keys(fromFlags) as SettingKey[])), ...fromFlags };
  return { kind: 'run', config };
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
