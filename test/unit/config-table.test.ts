/**
 * The table of settings (src/config-defaults.ts) is the one place each option is
 * written: the command line, --help, the settings' variables, the compat parsers, the
 * library API and --pid-ns all follow it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseCompatArgs } from '../../src/compat/index.js';
import {
  baseConfig,
  ConfigError,
  defaultConfig,
  SETTINGS,
  settingEntries,
  type CompatTool,
  type Config,
  type SettingKey,
} from '../../src/config-defaults.js';
import { helpText, OPTIONS, parseArgs } from '../../src/config.js';
import { resolveConfig, runInit, type RunInitOptions } from '../../src/index.js';
import { pidNamespaceOuter } from '../../src/startup.js';
import { PIDONE, ROOT } from '../helpers/paths.js';

function run(args: readonly string[], env: NodeJS.ProcessEnv = {}): Config {
  const r = parseArgs(args, env);
  if (r.kind !== 'run') throw new Error(`expected run, got ${r.kind}`);
  return r.config;
}

/** The ConfigError `f` throws. */
function refusal(f: () => unknown): ConfigError {
  try {
    f();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

async function rejection(p: Promise<unknown>): Promise<ConfigError> {
  try {
    await p;
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('the table of settings', () => {
  it('parseArgs([cmd]) is defaultConfig([cmd]): the parser starts from the table', () => {
    expect(parseArgs(['sleep'])).toEqual({ kind: 'run', config: defaultConfig(['sleep']) });
    expect(run(['--', 'sh', '-c', 'exit 3'])).toEqual(defaultConfig(['sh', '-c', 'exit 3']));
    // With no variable set, the fast path's base is the defaults too.
    expect(baseConfig(['sleep'], {})).toEqual(defaultConfig(['sleep']));
  });

  it('every Config key but the command has its entry, with a default', () => {
    const keys = Object.keys(defaultConfig(['x'])).filter((k) => k !== 'command');
    expect(keys.sort()).toEqual(Object.keys(SETTINGS).sort());
  });

  it('each defaultConfig() has Maps of its own', () => {
    const a = defaultConfig(['x']);
    const b = defaultConfig(['x']);
    expect(a.rewrite).not.toBe(b.rewrite);
    expect(a.remapExit).not.toBe(b.remapExit);
  });

  it('every option that takes a value or counts shows its default in --help, printed from the table', () => {
    const help = helpText().split('\n');
    let checked = 0;
    for (const [key, setting] of settingEntries()) {
      const flag = setting.flag;
      if (flag === undefined) continue;
      // The prose never states a default: it would go stale when the table changes.
      expect(flag.describe, key).not.toMatch(/default/i);
      const line = help.find((l) => l.includes(`--${flag.name} `) || l.endsWith(`--${flag.name}`));
      expect(line, `--${flag.name} in --help`).toBeDefined();
      if (flag.kind === 'value' || flag.kind === 'count') {
        const variable = 'env' in flag && flag.env !== undefined ? `; env ${flag.env}` : '';
        expect(line!.endsWith(`${flag.describe} (default ${flag.showDefault(setting.default())}${variable})`), line).toBe(true);
        checked++;
      } else {
        // Switches are off, and lists empty, unless given.
        expect(line!.endsWith(flag.describe), line).toBe(true);
      }
    }
    expect(checked).toBeGreaterThanOrEqual(6);
    expect(helpText()).toContain('--grace DURATION');
    expect(helpText()).toMatch(/--grace DURATION .*\(default 5s; env PIDONE_GRACE\)$/m);
    expect(helpText()).toMatch(/--drain-delay DURATION .*\(default 0; env PIDONE_DRAIN_DELAY\)$/m);
    expect(helpText()).toMatch(/-v, --verbose .*\(default warn\)$/m);
  });

  it('OPTIONS holds every flag of the table, each naming its setting, then --help and --version', () => {
    const flagged = settingEntries().filter(([, s]) => s.flag !== undefined);
    expect(OPTIONS.filter((o) => o.key !== undefined).map((o) => o.key)).toEqual(flagged.map(([k]) => k));
    expect(OPTIONS.slice(-2).map((o) => o.name)).toEqual(['help', 'version']);
  });
});

describe('--drain-delay', () => {
  it('takes a duration, like --grace', () => {
    expect(run(['--drain-delay', '2s', 'x']).drainDelayMs).toBe(2000);
    expect(run(['--drain-delay=1.5s', 'x']).drainDelayMs).toBe(1500);
    expect(run(['--drain-delay', '0', 'x']).drainDelayMs).toBe(0);
    expect(run(['x']).drainDelayMs).toBe(0);
  });

  it('refuses what --grace refuses, naming itself', () => {
    const message = refusal(() => parseArgs(['--drain-delay', '10', 'x'])).message;
    expect(message).toBe(refusal(() => parseArgs(['--grace', '10', 'x'])).message.replace('--grace', '--drain-delay'));
    expect(message).toBe("pidone: --drain-delay: '10' is not a duration; accepted: a number with a unit ms, s, m or h (500ms, 2s, 1.5s, 1m), or 0");
  });
});

describe("the settings' variables", () => {
  it('PIDONE_GRACE and PIDONE_DRAIN_DELAY set what their flags set', () => {
    const c = run(['x'], { PIDONE_GRACE: '20s', PIDONE_DRAIN_DELAY: '3s' });
    expect(c.graceMs).toBe(20_000);
    expect(c.drainDelayMs).toBe(3000);
    expect(c).toEqual({ ...defaultConfig(['x']), graceMs: 20_000, drainDelayMs: 3000 });
  });

  it('the flag wins over the variable, which is then not read at all', () => {
    expect(run(['--grace', '1s', 'x'], { PIDONE_GRACE: '20s' }).graceMs).toBe(1000);
    expect(run(['--drain-delay=0', 'x'], { PIDONE_DRAIN_DELAY: '3s' }).drainDelayMs).toBe(0);
    expect(run(['--grace', '1s', 'x'], { PIDONE_GRACE: 'soon' }).graceMs).toBe(1000);
  });

  it('empty counts as unset', () => {
    expect(run(['x'], { PIDONE_GRACE: '', PIDONE_DRAIN_DELAY: '' })).toEqual(defaultConfig(['x']));
  });

  it('a bad value: one line naming the variable, the value and what is accepted; exit 2', () => {
    for (const [name, value] of [
      ['PIDONE_GRACE', '10'],
      ['PIDONE_DRAIN_DELAY', '-1s'],
    ] as const) {
      const error = refusal(() => parseArgs(['x'], { [name]: value }));
      expect(error.message).toBe(
        `pidone: ${name}: '${value}' is not a duration; accepted: a number with a unit ms, s, m or h (500ms, 2s, 1.5s, 1m), or 0`,
      );
      expect(error.exitCode).toBe(2);
    }
    expect(refusal(() => baseConfig(['x'], { PIDONE_GRACE: 'a\nb' })).message).toContain("'a\\x0ab'");
  });

  it('apply in the compat modes too, whose bad values exit 2 as PIDONE_LOG_FORMAT does', () => {
    const env = { PIDONE_DRAIN_DELAY: '2s', PIDONE_GRACE: '7s' };
    for (const mode of ['tini', 'dumb-init'] as const) {
      const r = parseCompatArgs(mode, ['true'], env, '0.0.0');
      if (r.kind !== 'run') throw new Error(r.kind);
      expect(r.config.drainDelayMs).toBe(2000);
      expect(r.config.graceMs).toBe(7000);
      const error = refusal(() => parseCompatArgs(mode, ['true'], { PIDONE_DRAIN_DELAY: 'later' }, '0.0.0'));
      expect(error.message).toMatch(/^pidone: PIDONE_DRAIN_DELAY: 'later' is not a duration; accepted: /);
      expect(error.exitCode).toBe(2);
    }
  });

  it('are not read by the library: its settings come from its caller', () => {
    const saved = process.env['PIDONE_GRACE'];
    process.env['PIDONE_GRACE'] = 'soon';
    try {
      expect(resolveConfig({ command: ['x'] }).graceMs).toBe(5000);
      expect(resolveConfig({ args: ['x'] }).graceMs).toBe(5000);
    } finally {
      if (saved === undefined) delete process.env['PIDONE_GRACE'];
      else process.env['PIDONE_GRACE'] = saved;
    }
  });
});

describe('the compat parsers change only the settings that name their mode', () => {
  const cases: Array<[CompatTool, string[], NodeJS.ProcessEnv]> = [
    ['tini', ['true'], {}],
    ['tini', ['-s', '-g', '-w', '-vv', '-p', 'SIGHUP', '-e', '3', '--', 'true'], {}],
    ['tini', ['true'], { TINI_SUBREAPER: '', TINI_KILL_PROCESS_GROUP: '1', TINI_VERBOSITY: '3' }],
    ['dumb-init', ['true'], {}],
    ['dumb-init', ['-c', '-v', '-r', '15:2', 'true'], {}],
    ['dumb-init', ['true'], { DUMB_INIT_SETSID: '0', DUMB_INIT_DEBUG: '1' }],
  ];
  it.each(cases)('%s %j %j', (mode, argv, env) => {
    const r = parseCompatArgs(mode, argv, env, '0.0.0');
    if (r.kind !== 'run') throw new Error(r.kind);
    const base = defaultConfig(r.config.command);
    for (const key of Object.keys(SETTINGS) as SettingKey[]) {
      // logFormat is PIDONE_LOG_FORMAT's, read by src/compat/index.ts for every compat mode.
      if (key === 'logFormat') continue;
      if (JSON.stringify([...toEntries(r.config[key])]) === JSON.stringify([...toEntries(base[key])])) continue;
      const compat = (SETTINGS[key] as { compat?: Partial<Record<CompatTool, string>> }).compat;
      expect(compat?.[mode], `${mode} changed ${key}`).toBeDefined();
    }
  });
});

function toEntries(value: unknown): unknown[] {
  return value instanceof Map ? [...value] : [value];
}

describe('the library API checks its settings as the command line does', () => {
  const command = ['true'];
  const cli = (args: string[]) => refusal(() => parseArgs([...args, 'true'])).message;
  const library = (options: Record<string, unknown>) => refusal(() => resolveConfig({ command, ...options } as RunInitOptions)).message;

  it('an unknown key is refused with the message of an unknown flag', async () => {
    expect(library({ bogus: 1 })).toBe(cli(['--bogus']));
    expect(library({ bogus: 1 })).toBe("pidone: unknown option '--bogus' (run 'pidone --help' for the options)");
    // A misspelt key, even undefined, is an error rather than a setting silently lost.
    expect(library({ graceMS: undefined })).toBe(cli(['--graceMS']));
    const rejected = await rejection(runInit({ command, bogus: 1 } as unknown as RunInitOptions));
    expect(rejected.message).toBe(cli(['--bogus']));
    expect(rejected.exitCode).toBe(2);
  });

  it('a negative grace is refused with the message of --grace -1ms', async () => {
    expect(library({ graceMs: -1 })).toBe(cli(['--grace', '-1ms']));
    expect(library({ graceMs: -1 })).toMatch(/^pidone: --grace: '-1ms' is not a duration; accepted: .*$/);
    expect((await rejection(runInit({ command, graceMs: -1 }))).message).toBe(cli(['--grace', '-1ms']));
    expect(library({ drainDelayMs: -5 })).toBe(cli(['--drain-delay', '-5ms']));
    expect(library({ graceMs: 2 ** 31 })).toBe(cli(['--grace', `${2 ** 31}ms`]));
    expect(library({ graceMs: '5s' })).toBe("pidone: --grace: '5s' is not a number of milliseconds");
  });

  it('every other value is checked by its setting, with the command line message where it has one', () => {
    expect(library({ remaining: 'nuke' })).toBe(cli(['--remaining', 'nuke']));
    expect(library({ logFormat: 'xml' })).toBe(cli(['--log-format', 'xml']));
    expect(library({ rewrite: new Map([['TREM', 'SIGINT']]) })).toBe(cli(['--rewrite', 'TREM:SIGINT']));
    expect(library({ rewrite: new Map([['SIGKILL', null]]) })).toBe(cli(['--rewrite', 'SIGKILL:none']));
    expect(library({ remapExit: new Map([[256, 0]]) })).toBe(cli(['--remap-exit', '256:0']));
    expect(library({ parentDeathSignal: 'SIGFOO' })).toBe(cli(['--pdeathsig', 'SIGFOO']));
    expect(library({ singleChild: 'yes' })).toBe("pidone: --single-child: 'yes' is not true or false");
    expect(library({ stopWithChild: 1 })).toBe("pidone: stopWithChild: '1' is not true or false");
    expect(library({ verbosity: -1 })).toBe("pidone: --verbose: '-1' is not a whole number 0 or more");
    expect(library({ subreaper: 'maybe' })).toBe("pidone: --subreaper: 'maybe' is not one of auto, on, off");
    expect(library({ rewrite: { TERM: 'INT' } })).toBe("pidone: --rewrite: '[object Object]' is not a Map");
  });

  it('a valid value is what the flag would have made it', () => {
    const c = resolveConfig({
      command,
      graceMs: 1500,
      drainDelayMs: 250,
      rewrite: new Map([['SIGTERM', 'SIGQUIT']]),
      remapExit: new Map([[143, 0]]),
      parentDeathSignal: 'SIGHUP',
      verbosity: 2,
      logFormat: undefined,
    });
    expect(c).toEqual(run(['--grace', '1.5s', '--drain-delay', '250ms', '--rewrite', 'TERM:QUIT', '--remap-exit', '143', '--pdeathsig', 'HUP', '-vv', 'true']));
  });

  it('settings cannot be mixed with args', () => {
    expect(refusal(() => resolveConfig({ args: ['true'], graceMs: 1 } as unknown as RunInitOptions)).message).toBe(
      "pidone: runInit(): 'graceMs' cannot be given with args; put its flag in args",
    );
  });
});

describe('--pid-ns: the outer pidone', () => {
  it('takes its own values from the table and gives the inner one every flag but its own', () => {
    const argv = ['--pid-ns', '--pdeathsig', 'HUP', '--drain-delay', '2s', '--grace=1s', '--remap-exit', '3', '--', 'sleep', '1'];
    const config = run(argv);
    const { config: outer, namespaceInit } = pidNamespaceOuter(argv, config, ['PATH=/bin']);
    expect(namespaceInit.command).toEqual([PIDONE, '--drain-delay', '2s', '--grace=1s', '--remap-exit', '3', '--', 'sleep', '1']);
    expect(outer).toEqual({
      ...config,
      singleChild: true,
      remaining: 'kill',
      rewrite: new Map(),
      remapExit: new Map(),
      // The inner pidone delays the first SIGTERM; the outer forwards it at once.
      drainDelayMs: 0,
    });
    expect(outer.parentDeathSignal).toBe('SIGHUP');
    expect(outer.graceMs).toBe(1000);
  });

  it('drops the outer-only flags in every spelling', () => {
    const argv = ['--pdeathsig=TERM', '--pid-ns', '-v', 'sleep', '1'];
    const { namespaceInit } = pidNamespaceOuter(argv, run(argv), []);
    expect(namespaceInit.command.slice(1)).toEqual(['-v', '--', 'sleep', '1']);
  });
});

describe('the settings\' variables, end to end', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pidone-env-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const pidone = PIDONE;

  it.each([
    [[], { PIDONE_GRACE: 'soon' }, 'PIDONE_GRACE'],
    [['--compat', 'tini'], { PIDONE_DRAIN_DELAY: '5' }, 'PIDONE_DRAIN_DELAY'],
    [['--compat', 'dumb-init'], { PIDONE_GRACE: '1d' }, 'PIDONE_GRACE'],
  ])('%j with %j: exit 2, one line, nothing run', (args, env, name) => {
    const marker = join(dir, `${name}-${args.length}`);
    const r = spawnSync(pidone, [...args, '--', 'touch', marker], { encoding: 'utf8', env: { ...process.env, ...env } });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^pidone: ${name}: '[^']*' is not a duration; accepted: [^\\n]*\\n$`));
    expect(existsSync(marker)).toBe(false);
  });

  it('the child gets the variables unchanged', () => {
    const r = spawnSync(pidone, ['--', 'sh', '-c', 'echo "$PIDONE_GRACE $PIDONE_DRAIN_DELAY"'], {
      encoding: 'utf8',
      env: { ...process.env, PIDONE_GRACE: '2s', PIDONE_DRAIN_DELAY: '0' },
    });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('2s 0\n');
    expect(r.status).toBe(0);
  });
});
