/**
 * The configuration pidone runs with, and the table of its settings (SETTINGS): for
 * each Config key, its default, its flag (with the parser and help text), its
 * environment variable if it has one, the compat modes that set it, and how the
 * library API checks a value given for it. Everything else (the command-line parser,
 * --help, the compat parsers, runInit(), --pid-ns) reads this table.
 *
 * Light on purpose: the common `pidone -- cmd` runs with baseConfig() and never loads
 * the command-line parser (src/config.ts, which is yargs).
 *
 * Every problem is a ConfigError: one line naming the flag (or variable) and what is
 * accepted. pidone exits 2 on it and spawns nothing.
 */
import { ACCEPTED_DURATION_FORMS, formatDuration, parseDuration } from './duration.js';
import type { RemapTable } from './exit-status.js';
import { ACCEPTED_SIGNAL_FORMS, suggestSignal } from './config-signal-spelling.js';
import { NEVER_CAUGHT, type RewriteTable } from './signal-policy.js';
import { parseSignal, type SignalName } from './signals.js';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  /** The exit code for this error: 2 natively; compat modes use their tool's code. */
  constructor(
    message: string,
    readonly exitCode: number = 2,
  ) {
    super(message);
  }
}

export type LogFormat = 'json' | 'pretty';
/** Which tool's command line and behaviour pidone follows (docs/compat.md). */
export type CompatMode = 'none' | 'tini' | 'dumb-init';
export type RemainingPolicy = 'kill' | 'wait' | 'leave';

export interface Config {
  /** The command and its arguments: command[0] is looked up in PATH like a shell does. */
  readonly command: readonly string[];
  /** Forward signals to the main child only, not to its process group. */
  readonly singleChild: boolean;
  /** Run the child in a new session (setsid) instead of a new process group. */
  readonly setsid: boolean;
  /** 'auto': become a subreaper when not PID 1; 'on': always; 'off': never (warn). */
  readonly subreaper: 'auto' | 'on' | 'off';
  readonly rewrite: RewriteTable;
  readonly remapExit: RemapTable;
  /** Log reaped orphans at warn instead of debug. */
  readonly warnOnReap: boolean;
  /** 0 = warn (default), 1 = info, 2 = debug, 3+ = trace. */
  readonly verbosity: number;
  /** Undefined: json unless stderr is a terminal. */
  readonly logFormat: LogFormat | undefined;
  /** What to do with processes left when the main child has exited. */
  readonly remaining: RemainingPolicy;
  /** How long `remaining: kill` waits after SIGTERM before SIGKILL. */
  readonly graceMs: number;
  /** How long the first SIGTERM waits before it is forwarded (0: at once). */
  readonly drainDelayMs: number;
  /** Run pidone as its own child: refused unless asked for (a loop spawns forever). */
  readonly allowNested: boolean;
  /** Run in a new PID namespace (and mount namespace with a fresh /proc) as its PID 1. */
  readonly pidNamespace: boolean;
  /** PR_SET_PDEATHSIG: the signal pidone gets when its parent dies, or null. */
  readonly parentDeathSignal: SignalName | null;
  /** Which tool pidone is standing in for. */
  readonly compat: CompatMode;
  /**
   * dumb-init's job control: after forwarding SIGTSTP, SIGTTIN or SIGTTOU, stop
   * pidone itself (SIGSTOP) until SIGCONT. Never in native mode: PID 1 does not stop.
   */
  readonly stopWithChild: boolean;
  /** dumb-init: when the main child exits, send one SIGTERM to its process group. */
  readonly termGroupOnExit: boolean;
}

/** Every Config key but the command: each is one entry of SETTINGS. */
export type SettingKey = Exclude<keyof Config, 'command'>;

/** The modes with a command line of their own (src/compat/). */
export type CompatTool = Exclude<CompatMode, 'none'>;

export const GROUP_CHILD = 'The child:';
export const GROUP_SIGNALS = 'Signals:';
export const GROUP_EXIT = 'Exit and what remains:';
export const GROUP_LOGS = 'Logging:';
export const GROUP_OTHER = 'Other:';

interface FlagCommon {
  /** The long name, without `--`. */
  readonly name: string;
  /** One letter, for `-x`. */
  readonly alias?: string;
  /** The --help group it is listed under (and docs/usage.md's section). */
  readonly group: string;
  /** The help line, without the default (which helpText() prints from the entry). */
  readonly describe: string;
}

/** `--flag` and `--no-flag`. */
export interface SwitchFlag<V> extends FlagCommon {
  readonly kind: 'switch';
  /** The value for `--flag` (true) or `--no-flag` (false), the last one given. */
  readonly fromSwitch: (on: boolean) => V;
}

/** `--flag VALUE`, the last one given; the same parser reads the variable `env`. */
export interface ValueFlag<V> extends FlagCommon {
  readonly kind: 'value';
  readonly valueName: string;
  /** Parses a flag's or variable's text; `where` ('--grace', 'PIDONE_GRACE') starts the message. */
  readonly parse: (text: string, where: string) => V;
  /** The default as --help shows it: "(default 5s)". */
  readonly showDefault: (value: V) => string;
  /**
   * A variable read in every mode (native, tini, dumb-init) when the flag is not given.
   * Empty counts as unset. The child gets it unchanged, like every variable of pidone's
   * that the launcher does not set.
   */
  readonly env?: string;
}

/** `--flag VALUE`, repeatable: every value given, in order. */
export interface ListFlag<V> extends FlagCommon {
  readonly kind: 'list';
  readonly valueName: string;
  readonly parse: (texts: readonly string[], where: string) => V;
}

/** `-vvv`: how many times it was given. */
export interface CountFlag<V> extends FlagCommon {
  readonly kind: 'count';
  readonly fromCount: (count: number) => V;
  readonly showDefault: (value: V) => string;
}

export type Flag<V> = SwitchFlag<V> | ValueFlag<V> | ListFlag<V> | CountFlag<V>;

/** One setting: everything about one Config key. */
export interface Setting<V> {
  /** A function, so that each Config gets Maps of its own. */
  readonly default: () => V;
  /** pidone's flag for it; none for settings only a compat mode or the library sets. */
  readonly flag?: Flag<V>;
  /**
   * A value given to runInit() checked, and made what the flag would have made it;
   * throws the ConfigError the command line gives for the same value. `name` is what
   * the message calls the setting: the flag (`--grace`), or the key when it has none.
   */
  readonly check: (value: unknown, name: string) => V;
  /** What each compat mode takes it from; the compat parsers may change only these. */
  readonly compat?: { readonly [M in CompatTool]?: string };
  /**
   * --pid-ns: the value of the pidone that stays outside (src/startup.ts), when it is
   * not the one given. The inner pidone gets the same flags and environment.
   */
  readonly outsidePidNamespace?: () => V;
  /** --pid-ns: the flag is for the outer pidone only; the inner one never sees it. */
  readonly outerOnly?: true;
}

type SettingTable = { readonly [K in SettingKey]: Setting<Config[K]> };

const HINT = "run 'pidone --help' for the options";

export function fail(message: string): never {
  throw new ConfigError(`pidone: ${message}`);
}

/** The message for a flag pidone does not know (or a key runInit() does not know). */
export function unknownOption(written: string): never {
  fail(`unknown option '${shown(written)}' (${HINT})`);
}

/**
 * A user's value as an error message shows it: control characters escaped so the
 * message stays one line, and very long values cut.
 */
export function shown(value: string): string {
  const escaped = value.replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return escaped.length > 80 ? `${escaped.slice(0, 60)}... (${value.length} characters)` : escaped;
}

/** A library value as text, for the same parser the command line uses. */
function text(value: unknown): string {
  return typeof value === 'string' ? value : String(value);
}

function parseSignalOrFail(where: string, text: string): SignalName {
  const signal = parseSignal(text);
  if (signal !== null) return signal;
  const suggestion = suggestSignal(text);
  fail(`${where}: unknown signal '${shown(text)}'${suggestion ? ` (did you mean ${suggestion}?)` : ''}; accepted: ${ACCEPTED_SIGNAL_FORMS}`);
}

export function parseRewrite(values: readonly string[], where = '--rewrite'): RewriteTable {
  const table = new Map<SignalName, SignalName | null>();
  for (const value of values) {
    const m = /^([^:]+):([^:]+)$/.exec(value.trim());
    if (!m) fail(`${where}: '${shown(value)}' is not FROM:TO (e.g. TERM:INT, 15:2, or WINCH:0 to drop)`);
    const from = parseSignalOrFail(where, m[1]!);
    const to = m[2] === '0' || m[2]!.toLowerCase() === 'none' ? null : parseSignalOrFail(where, m[2]!);
    if (NEVER_CAUGHT.has(from)) fail(`${where}: ${from} cannot be caught, so it cannot be rewritten`);
    table.set(from, to);
  }
  return table;
}

function exitCodeValue(text: string): number | null {
  if (!/^\d{1,3}$/.test(text)) return null;
  const n = Number(text);
  return n <= 255 ? n : null;
}

export function parseRemapExit(values: readonly string[], where = '--remap-exit'): RemapTable {
  const table = new Map<number, number>();
  for (const value of values) {
    const [fromText, toText, extra] = value.trim().split(':');
    const from = exitCodeValue(fromText ?? '');
    const to = toText === undefined ? 0 : exitCodeValue(toText);
    if (from === null || to === null || extra !== undefined) {
      fail(`${where}: '${shown(value)}' is not an exit code 0-255, or FROM:TO with both 0-255`);
    }
    table.set(from, to);
  }
  return table;
}

function parseDurationOrFail(text: string, where: string): number {
  const ms = parseDuration(text);
  if (ms === null) fail(`${where}: '${shown(text)}' is not a duration; accepted: ${ACCEPTED_DURATION_FORMS}`);
  return ms;
}

/** A duration as --help shows a default: 5s, or 0 alone (as it is written). */
function showDuration(ms: number): string {
  return ms === 0 ? '0' : formatDuration(ms);
}

function oneOf<T extends string>(accepted: readonly T[]): (text: unknown, where: string) => T {
  return (value, where) => {
    const t = text(value);
    if ((accepted as readonly string[]).includes(t)) return t as T;
    fail(`${where}: '${shown(t)}' is not one of ${accepted.join(', ')}`);
  };
}

function checkBoolean(value: unknown, name: string): boolean {
  if (typeof value === 'boolean') return value;
  fail(`${name}: '${shown(text(value))}' is not true or false`);
}

/** Milliseconds from the library: the same check as `--flag <value>ms` on the command line. */
function checkMilliseconds(value: unknown, name: string): number {
  if (typeof value !== 'number') fail(`${name}: '${shown(text(value))}' is not a number of milliseconds`);
  return parseDurationOrFail(`${value}ms`, name);
}

function checkMap(value: unknown, name: string): ReadonlyMap<unknown, unknown> {
  if (value instanceof Map) return value;
  fail(`${name}: '${shown(text(value))}' is not a Map`);
}

/**
 * Every setting, in the order --help lists their flags (within each group). A new one
 * is its Config field, its entry here (the compiler asks for both), its behaviour in
 * src/init.ts and its row in docs/usage.md (test/package/docs.test.ts asks for that):
 * the parser, --help, the variable, runInit()'s check and --pid-ns follow from here.
 */
export const SETTINGS = {
  singleChild: {
    default: () => false,
    flag: { kind: 'switch', name: 'single-child', group: GROUP_SIGNALS, describe: 'Forward signals to the child only, not to its process group', fromSwitch: (on) => on },
    check: checkBoolean,
    compat: { tini: 'unless -g or TINI_KILL_PROCESS_GROUP', 'dumb-init': '-c, --single-child, DUMB_INIT_SETSID=0' },
    outsidePidNamespace: () => true,
  },
  rewrite: {
    default: () => new Map(),
    flag: {
      kind: 'list',
      name: 'rewrite',
      group: GROUP_SIGNALS,
      valueName: 'FROM:TO',
      describe: 'Forward signal FROM as TO (names or numbers; TO 0 or none drops FROM). Repeatable',
      parse: (texts, where) => parseRewrite(texts, where),
    },
    check: (value, name) =>
      parseRewrite(
        [...checkMap(value, name)].map(([from, to]) => `${text(from)}:${to === null ? 'none' : text(to)}`),
        name,
      ),
    compat: { 'dumb-init': '-r, --rewrite; SIGTSTP, SIGTTIN, SIGTTOU as SIGSTOP in setsid mode' },
    outsidePidNamespace: () => new Map(),
  },
  setsid: {
    default: () => false,
    flag: { kind: 'switch', name: 'setsid', group: GROUP_CHILD, describe: 'Run the child in a new session instead of a new process group', fromSwitch: (on) => on },
    check: checkBoolean,
    compat: { 'dumb-init': 'unless -c, --single-child or DUMB_INIT_SETSID=0' },
  },
  subreaper: {
    default: () => 'auto' as const,
    flag: {
      kind: 'switch',
      name: 'subreaper',
      alias: 's',
      group: GROUP_CHILD,
      describe: 'Become a child subreaper (automatic when not PID 1); --no-subreaper to refuse',
      fromSwitch: (on) => (on ? 'on' : 'off'),
    },
    check: (value, name) => oneOf(['auto', 'on', 'off'] as const)(value, name),
    compat: { tini: '-s, TINI_SUBREAPER' },
  },
  pidNamespace: {
    default: () => false,
    flag: {
      kind: 'switch',
      name: 'pid-ns',
      group: GROUP_CHILD,
      describe: 'Run in a new PID namespace (with a fresh /proc) as its PID 1: nothing started inside outlives pidone',
      fromSwitch: (on) => on,
    },
    check: checkBoolean,
    outerOnly: true,
  },
  parentDeathSignal: {
    default: () => null,
    flag: {
      kind: 'value',
      name: 'pdeathsig',
      group: GROUP_SIGNALS,
      valueName: 'SIG',
      describe: "Receive SIG (and handle it like any signal) when pidone's parent dies",
      parse: (text, where) => parseSignalOrFail(where, text),
      showDefault: (signal) => signal ?? 'none',
    },
    check: (value, name) => (value === null ? null : parseSignalOrFail(name, text(value))),
    compat: { tini: '-p' },
    // The outer pidone watches its parent and forwards the signal inward like any
    // other; the inner one is tied to the outer by PR_SET_PDEATHSIG(SIGKILL), set
    // before it exec'd (native/namespaces.h), which a --pdeathsig of its own would replace.
    outerOnly: true,
  },
  allowNested: {
    default: () => false,
    flag: { kind: 'switch', name: 'allow-nested', group: GROUP_CHILD, describe: 'Allow the command to be pidone itself', fromSwitch: (on) => on },
    check: checkBoolean,
  },
  remaining: {
    default: () => 'kill' as const,
    flag: {
      kind: 'value',
      name: 'remaining',
      group: GROUP_EXIT,
      valueName: 'kill|wait|leave',
      describe: 'When the child exits: kill what remains (TERM, grace, KILL), wait for it, or leave it',
      parse: oneOf(['kill', 'wait', 'leave'] as const),
      showDefault: (policy) => policy,
    },
    check: oneOf(['kill', 'wait', 'leave'] as const),
    compat: { tini: 'always leave', 'dumb-init': 'always leave' },
    outsidePidNamespace: () => 'kill' as const,
  },
  graceMs: {
    default: () => 5000,
    flag: {
      kind: 'value',
      name: 'grace',
      group: GROUP_EXIT,
      valueName: 'DURATION',
      describe: 'Time between TERM and KILL for what remains: 500ms, 2s, 1m; 0 kills at once',
      parse: parseDurationOrFail,
      showDefault: showDuration,
      env: 'PIDONE_GRACE',
    },
    check: checkMilliseconds,
  },
  drainDelayMs: {
    default: () => 0,
    flag: {
      kind: 'value',
      name: 'drain-delay',
      group: GROUP_SIGNALS,
      valueName: 'DURATION',
      describe: 'Hold the first SIGTERM this long before forwarding it, while the child keeps serving; a second TERM, INT or QUIT forwards at once: 500ms, 2s, 1m',
      parse: parseDurationOrFail,
      showDefault: showDuration,
      env: 'PIDONE_DRAIN_DELAY',
    },
    check: checkMilliseconds,
    // The inner pidone, which gets the same flag and variable, delays; the outer one
    // forwards at once, so the delay is counted once.
    outsidePidNamespace: () => 0,
  },
  remapExit: {
    default: () => new Map(),
    flag: {
      kind: 'list',
      name: 'remap-exit',
      group: GROUP_EXIT,
      valueName: 'N[:M]',
      describe: "Exit 0 (or M) instead of the child's exit code N. Repeatable",
      parse: (texts, where) => parseRemapExit(texts, where),
    },
    check: (value, name) => parseRemapExit([...checkMap(value, name)].map(([from, to]) => `${text(from)}:${text(to)}`), name),
    compat: { tini: '-e' },
    // The inner pidone remaps; the outer one passes its code on as it is.
    outsidePidNamespace: () => new Map(),
  },
  warnOnReap: {
    default: () => false,
    flag: { kind: 'switch', name: 'warn-on-reap', group: GROUP_LOGS, describe: 'Log every reaped orphan at warn level', fromSwitch: (on) => on },
    check: checkBoolean,
    compat: { tini: '-w' },
  },
  verbosity: {
    default: () => 0,
    flag: {
      kind: 'count',
      name: 'verbose',
      alias: 'v',
      group: GROUP_LOGS,
      describe: 'More logs: -v info, -vv debug, -vvv trace',
      fromCount: (count) => count,
      showDefault: (verbosity) => ['warn', 'info', 'debug'][verbosity] ?? 'trace',
    },
    check: (value, name) => {
      if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return value;
      fail(`${name}: '${shown(text(value))}' is not a whole number 0 or more`);
    },
    compat: { tini: '-v, TINI_VERBOSITY', 'dumb-init': '-v, --verbose, DUMB_INIT_DEBUG=1' },
  },
  logFormat: {
    default: () => undefined,
    flag: {
      kind: 'value',
      name: 'log-format',
      group: GROUP_LOGS,
      valueName: 'json|pretty',
      describe: 'Log format',
      parse: oneOf(['json', 'pretty'] as const),
      showDefault: (format) => format ?? 'json, pretty when stderr is a terminal',
    },
    check: (value, name) => (value === undefined ? undefined : oneOf(['json', 'pretty'] as const)(value, name)),
  },
  compat: {
    default: () => 'none' as const,
    check: (value) => oneOf(['tini', 'dumb-init', 'none'] as const)(value, '--compat'),
    compat: { tini: 'always', 'dumb-init': 'always' },
  },
  stopWithChild: {
    default: () => false,
    check: checkBoolean,
    compat: { 'dumb-init': 'always' },
  },
  termGroupOnExit: {
    default: () => false,
    check: checkBoolean,
    compat: { 'dumb-init': 'in setsid mode' },
  },
} as const satisfies SettingTable;

/** The settings as [key, entry] pairs, typed loosely enough to loop over. */
export function settingEntries(): Array<[SettingKey, Setting<unknown>]> {
  return Object.entries(SETTINGS) as Array<[SettingKey, Setting<unknown>]>;
}

/** The name a message uses for a setting: its flag, or its key when it has none. */
export function settingName(key: SettingKey): string {
  const flag = (SETTINGS[key] as Setting<unknown>).flag;
  return flag ? `--${flag.name}` : key;
}

/** The configuration of `pidone -- command...`: every default, for tests and the library API. */
export function defaultConfig(command: readonly string[]): Config {
  const config: Record<string, unknown> = { command };
  for (const [key, setting] of settingEntries()) config[key] = setting.default();
  return config as unknown as Config;
}

/**
 * The settings whose variable is set (non-empty) in `env`, parsed; those in `given`
 * (set by a flag, which wins) are not read at all.
 */
export function environmentSettings(env: NodeJS.ProcessEnv, given: ReadonlySet<SettingKey> = new Set()): Partial<Config> {
  const out: Record<string, unknown> = {};
  for (const [key, setting] of settingEntries()) {
    if (given.has(key)) continue;
    const flag = setting.flag;
    if (flag?.kind !== 'value' || flag.env === undefined) continue;
    const value = env[flag.env];
    if (value !== undefined && value !== '') out[key] = flag.parse(value, flag.env);
  }
  return out as Partial<Config>;
}

/**
 * What every mode starts from: the defaults, then the settings' variables (the flags,
 * read next by the parser of the mode, win over them).
 */
export function baseConfig(
  command: readonly string[],
  env: NodeJS.ProcessEnv,
  given: ReadonlySet<SettingKey> = new Set(),
): Config {
  return { ...defaultConfig(command), ...environmentSettings(env, given) };
}

/** The keys whose entry in SETTINGS names compat mode M. */
export type CompatKeys<M extends CompatTool> = {
  [K in SettingKey]: (typeof SETTINGS)[K] extends { readonly compat: { readonly [P in M]: string } } ? K : never;
}[SettingKey];

/**
 * A compat mode's Config: the base of every mode (defaults and variables) with what
 * the tool's command line changed. Only settings whose entry names the mode may
 * change: anything else is a compile error.
 */
export function compatConfig<M extends CompatTool>(
  mode: M,
  command: readonly string[],
  env: NodeJS.ProcessEnv,
  changes: { readonly [K in Exclude<CompatKeys<M>, 'compat'>]?: Config[K] },
): Config {
  return { ...baseConfig(command, env), ...changes, compat: mode };
}

/**
 * runInit()'s settings checked as the command line checks them: an unknown key is
 * refused as an unknown flag is, and each value goes through its setting's check.
 */
export function checkOverrides(command: readonly string[], overrides: Readonly<Record<string, unknown>>): Config {
  const config: Record<string, unknown> = { ...defaultConfig(command) };
  for (const [key, value] of Object.entries(overrides)) {
    if (!Object.hasOwn(SETTINGS, key)) unknownOption(`--${key}`);
    if (value === undefined) continue;
    config[key] = (SETTINGS[key as SettingKey] as Setting<unknown>).check(value, settingName(key as SettingKey));
  }
  return config as unknown as Config;
}
