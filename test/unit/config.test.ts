import { describe, expect, it } from 'vitest';
import { ConfigError, helpText, OPTIONS, parseArgs, type Config } from '../../src/config.js';

function config(args: string[]): Config {
  const r = parseArgs(args);
  if (r.kind !== 'run') throw new Error(`expected run, got ${r.kind}`);
  return r.config;
}

function error(args: string[]): string {
  try {
    parseArgs(args);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('command line', () => {
  it('stops at the first non-option: the rest belongs to the command', () => {
    expect(config(['-v', 'sleep', '10', '-v', '--single-child']).command).toEqual(['sleep', '10', '-v', '--single-child']);
    expect(config(['-v', 'sleep', '10', '-v']).verbosity).toBe(1);
  });

  it('stops at --', () => {
    expect(config(['--', '-weird-name', 'x']).command).toEqual(['-weird-name', 'x']);
    expect(config(['--single-child', '--', 'sh', '-c', 'exit 3']).command).toEqual(['sh', '-c', 'exit 3']);
  });

  it('a command named true or false after a switch is the command, not the switch\'s value', () => {
    expect(config(['-v', 'true']).command).toEqual(['true']);
    expect(config(['-v', 'true']).verbosity).toBe(1);
    expect(config(['--single-child', 'false', 'x'])).toMatchObject({ command: ['false', 'x'], singleChild: true });
    expect(config(['--no-subreaper', 'true', '-v'])).toMatchObject({ command: ['true', '-v'], subreaper: 'off' });
  });

  it('keeps numbers in the command as strings', () => {
    expect(config(['sleep', '10']).command).toEqual(['sleep', '10']);
    expect(config(['echo', '0x10', '1e3']).command).toEqual(['echo', '0x10', '1e3']);
  });

  it('has defaults a tini user expects', () => {
    const c = config(['true']);
    expect(c).toMatchObject({
      singleChild: false,
      setsid: false,
      subreaper: 'auto',
      warnOnReap: false,
      verbosity: 0,
      logFormat: undefined,
      remaining: 'kill',
      graceMs: 5000,
    });
    expect(c.rewrite.size).toBe(0);
    expect(c.remapExit.size).toBe(0);
  });

  it('parses every flag', () => {
    const c = config([
      '--single-child',
      '--setsid',
      '-s',
      '--rewrite',
      'TERM:INT',
      '--rewrite=15:QUIT',
      '--rewrite',
      'WINCH:0',
      '--rewrite',
      'USR1:none',
      '--remap-exit',
      '143',
      '--remap-exit',
      '3:4',
      '--warn-on-reap',
      '-vvv',
      '--log-format',
      'pretty',
      '--remaining',
      'wait',
      '--grace',
      '1.5s',
      '--drain-delay',
      '2s',
      '--pdeathsig',
      'USR1',
      'cmd',
    ]);
    expect(c.singleChild).toBe(true);
    expect(c.setsid).toBe(true);
    expect(c.subreaper).toBe('on');
    // The last --rewrite for a signal wins.
    expect([...c.rewrite]).toEqual([
      ['SIGTERM', 'SIGQUIT'],
      ['SIGWINCH', null],
      ['SIGUSR1', null],
    ]);
    expect([...c.remapExit]).toEqual([
      [143, 0],
      [3, 4],
    ]);
    expect(c.warnOnReap).toBe(true);
    expect(c.verbosity).toBe(3);
    expect(c.logFormat).toBe('pretty');
    expect(c.remaining).toBe('wait');
    expect(c.graceMs).toBe(1500);
    expect(c.drainDelayMs).toBe(2000);
    expect(c.parentDeathSignal).toBe('SIGUSR1');
  });

  it('--no-subreaper turns the automatic subreaper off', () => {
    expect(config(['--no-subreaper', 'true']).subreaper).toBe('off');
  });

  it('--help and --version', () => {
    expect(parseArgs(['--help']).kind).toBe('help');
    expect(parseArgs(['-h']).kind).toBe('help');
    expect(parseArgs(['--version']).kind).toBe('version');
  });

  it.each([
    [['--bogus', 'true'], "unknown option '--bogus'"],
    [['-x', 'true'], "unknown option '-x'"],
    [['-vx', 'true'], "unknown option '-x'"],
    [['--no-grace', 'true'], "unknown option '--no-grace'"],
    [[], 'no command given'],
    [['-v'], 'no command given'],
    [['--rewrite'], "'--rewrite' needs a value"],
    [['--rewrite', 'TERM', 'x'], "'TERM' is not FROM:TO"],
    [['--rewrite', 'TREM:INT', 'x'], "unknown signal 'TREM' (did you mean SIGTERM?)"],
    [['--rewrite', 'KILL:TERM', 'x'], 'SIGKILL cannot be caught'],
    [['--remap-exit', '256', 'x'], "'256' is not an exit code 0-255"],
    [['--remap-exit', '-1', 'x'], "'-1' is not an exit code"],
    [['--grace', '10', 'x'], "'10' is not a duration"],
    [['--grace', '-1s', 'x'], "'-1s' is not a duration"],
    [['--drain-delay', '1', 'x'], "--drain-delay: '1' is not a duration"],
    [['--drain-delay'], "'--drain-delay' needs a value DURATION"],
    [['--log-format', 'xml', 'x'], "--log-format: 'xml' is not one of json, pretty"],
    [['--remaining', 'nuke', 'x'], "--remaining: 'nuke' is not one of kill, wait, leave"],
    [['--', ''], 'empty string'],
  ])('%j is refused: %s', (args, message) => {
    const text = error(args);
    expect(text).toContain(message);
    expect(text.split('\n')).toHaveLength(1);
    expect(text.startsWith('pidone: ')).toBe(true);
  });

  it('--help lists every flag, grouped', () => {
    const help = helpText();
    for (const o of OPTIONS) expect(help).toContain(`--${o.name}`);
    expect(help).toContain('Signals:');
    expect(help).toContain('Exit and what remains:');
  });
});
