import { describe, expect, it } from 'vitest';
import { ConfigError, type Config, type ParseResult } from '../../src/config.js';
import { printStream } from '../../src/compat/index.js';
import { atoi, parseTiniArgs, tiniExitCode, tiniVersionLine, tiniVerbosityToPidone } from '../../src/compat/tini.js';
import { parseDockerInitVersion } from './docker-init-version.js';

const VERSION = '1.2.3';
const PID = 4242;

function parse(argv: string[], env: NodeJS.ProcessEnv = {}): ParseResult {
  return parseTiniArgs(argv, env, VERSION, { pid: PID, programName: 'tini' });
}

function config(argv: string[], env: NodeJS.ProcessEnv = {}): Config {
  const r = parse(argv, env);
  if (r.kind !== 'run') throw new Error(`expected run, got ${r.kind}`);
  return r.config;
}

function failure(argv: string[], env: NodeJS.ProcessEnv = {}): ConfigError {
  try {
    parse(argv, env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

function printed(argv: string[]): { text: string; stream: string } {
  const r = parse(argv);
  if (r.kind !== 'print') throw new Error(`expected print, got ${r.kind}`);
  return { text: r.text, stream: printStream(r) };
}

describe('tini mode: defaults', () => {
  it("takes tini's defaults", () => {
    expect(config(['--', 'app', '-x'])).toMatchObject({
      command: ['app', '-x'],
      compat: 'tini',
      singleChild: true,
      setsid: false,
      subreaper: 'off',
      warnOnReap: false,
      verbosity: 0,
      parentDeathSignal: null,
      remaining: 'leave',
      stopWithChild: false,
      termGroupOnExit: false,
    });
    expect(config(['app']).remapExit.size).toBe(0);
  });

  it('passes every signal on unchanged, SIGTTIN, SIGTTOU and SIGABRT included (tini drops those three)', () => {
    expect([...config(['app']).rewrite]).toEqual([]);
  });
});

describe('tini mode: flags', () => {
  it('-s, -g, -w, -v, -p, -e', () => {
    const c = config(['-s', '-g', '-w', '-vv', '-p', 'SIGKILL', '-e', '3', '-e', '143', '--', 'app']);
    expect(c).toMatchObject({ subreaper: 'on', singleChild: false, warnOnReap: true, verbosity: 2, parentDeathSignal: 'SIGKILL' });
    expect([...c.remapExit]).toEqual([
      [3, 0],
      [143, 0],
    ]);
  });

  it('clusters short options and takes attached values', () => {
    const c = config(['-sgvpSIGTERM', '-e5', 'app']);
    expect(c).toMatchObject({ subreaper: 'on', singleChild: false, verbosity: 1, parentDeathSignal: 'SIGTERM' });
    expect(c.remapExit.get(5)).toBe(0);
  });

  it("permutes like GNU getopt: options after the program are tini's until --", () => {
    expect(config(['app', '-s', 'arg']).command).toEqual(['app', 'arg']);
    expect(config(['app', '-s', 'arg']).subreaper).toBe('on');
    expect(config(['app', 'x', '--', '-s', '-g']).command).toEqual(['app', 'x', '-s', '-g']);
    expect(config(['app', 'x', '--', '-s']).subreaper).toBe('off');
    expect(printed(['echo', '-l']).text).toContain('MIT License');
  });

  it('stops at the first operand under POSIXLY_CORRECT', () => {
    expect(config(['app', '-s'], { POSIXLY_CORRECT: '1' }).command).toEqual(['app', '-s']);
  });

  it('treats "-" as an operand', () => {
    expect(config(['-', 'x']).command).toEqual(['-', 'x']);
  });

  it('accepts -e values the way strtol does', () => {
    expect(tiniExitCode('5')).toBe(5);
    expect(tiniExitCode('+5')).toBe(5);
    expect(tiniExitCode(' 5')).toBe(5);
    expect(tiniExitCode('05')).toBe(5);
    expect(tiniExitCode('-0')).toBe(0);
    expect(tiniExitCode('')).toBe(0);
    expect(tiniExitCode('255')).toBe(255);
    for (const bad of ['256', '-1', '5x', ' 5 ', '0x5', 'x', '+', ' ']) expect(tiniExitCode(bad)).toBeNull();
  });

  it('accepts exactly the -p names tini knows', () => {
    expect(config(['-p', 'SIGUSR1', 'app']).parentDeathSignal).toBe('SIGUSR1');
    expect(config(['-p', 'SIGABRT', 'app']).parentDeathSignal).toBe('SIGABRT');
    for (const bad of ['TERM', 'sigterm', '15', 'SIGIO', 'SIGRTMIN', 'SIGPWR']) {
      const e = failure(['-p', bad, 'app']);
      expect(e.exitCode).toBe(1);
      expect(e.message).toBe(`[FATAL tini (${PID})] Not a valid option for -p: ${bad}`);
    }
  });
});

describe('tini mode: environment', () => {
  it('TINI_SUBREAPER and TINI_KILL_PROCESS_GROUP act when present, even empty', () => {
    expect(config(['app'], { TINI_SUBREAPER: '' }).subreaper).toBe('on');
    expect(config(['app'], { TINI_SUBREAPER: '0' }).subreaper).toBe('on');
    expect(config(['app'], { TINI_KILL_PROCESS_GROUP: '' }).singleChild).toBe(false);
  });

  it('TINI_VERBOSITY replaces -v, read like atoi', () => {
    expect(config(['-vvv', 'app'], { TINI_VERBOSITY: '1' }).verbosity).toBe(0);
    expect(config(['app'], { TINI_VERBOSITY: '0' }).verbosity).toBe(-1);
    expect(config(['app'], { TINI_VERBOSITY: 'abc' }).verbosity).toBe(-1);
    expect(config(['app'], { TINI_VERBOSITY: '3x' }).verbosity).toBe(2);
    expect(config(['app'], { TINI_VERBOSITY: '4' }).verbosity).toBe(3);
    expect(atoi(' -2')).toBe(-2);
    expect(tiniVerbosityToPidone(-5)).toBe(-1);
  });
});

describe('tini mode: printing and errors', () => {
  it('--version prints one line docker can parse, only as the sole argument', () => {
    const { text, stream } = printed(['--version']);
    expect(stream).toBe('stdout');
    expect(text).toBe('tini version 0.19.0\n');
    expect(text).toBe(`${tiniVersionLine()}\n`);
    expect(parseDockerInitVersion(text)).toEqual({ version: '0.19.0', commit: '' });
    const e = failure(['--version', 'app']);
    expect(e.exitCode).toBe(1);
    expect(e.message.split('\n')[0]).toBe("tini: invalid option -- '-'");
  });

  it('-h prints the usage on stdout; -l the licence', () => {
    expect(printed(['-h'])).toMatchObject({ stream: 'stdout' });
    expect(printed(['-h']).text).toMatch(/^Usage: tini \[OPTIONS\] PROGRAM -- \[ARGS\] \| --version$/m);
    expect(printed(['-l']).text).toMatch(/^The MIT License/);
  });

  it('acts on options in order', () => {
    expect(failure(['-x', '-h']).exitCode).toBe(1);
    expect(printed(['-h', '-x']).stream).toBe('stdout');
    expect(failure(['-e', '300', '-h']).message).toContain('Not a valid option for -e: 300');
  });

  it('bad usage exits 1 with getopt’s message and the usage', () => {
    const e = failure(['-x', 'app']);
    expect(e.exitCode).toBe(1);
    expect(e.message.split('\n')[0]).toBe("tini: invalid option -- 'x'");
    expect(e.message).toMatch(/^Usage: tini /m);
    expect(failure(['--bogus']).message.split('\n')[0]).toBe("tini: invalid option -- '-'");
    expect(failure(['-s', '-e']).message.split('\n')[0]).toBe("tini: option requires an argument -- 'e'");
    expect(failure(['app', '-p']).message.split('\n')[0]).toBe("tini: option requires an argument -- 'p'");
  });

  it('no program: the usage, exit 1', () => {
    for (const argv of [[], ['--'], ['-s'], ['-s', '--']]) {
      const e = failure(argv);
      expect(e.exitCode).toBe(1);
      expect(e.message).toMatch(/^tini \(tini version 0\.19\.0\)\nUsage: tini /);
      // main.ts adds the last newline: the usage's blank last line stays.
      expect(e.message.endsWith("process group.\n")).toBe(true);
    }
  });

  it('names the program as invoked in getopt messages', () => {
    try {
      parseTiniArgs(['-x'], {}, VERSION, { programName: '/usr/bin/docker-init' });
    } catch (e) {
      expect((e as Error).message.split('\n')[0]).toBe("/usr/bin/docker-init: invalid option -- 'x'");
      expect((e as Error).message).toMatch(/^Usage: docker-init /m);
      return;
    }
    throw new Error('expected an error');
  });
});
