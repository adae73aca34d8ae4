import { describe, expect, it } from 'vitest';
import { ConfigError, type Config, type ParseResult } from '../../src/config.js';
import { parseDumbInitArgs, parseDumbInitRewrite } from '../../src/compat/dumb-init.js';
import { printStream } from '../../src/compat/index.js';

const VERSION = '1.2.3';

function parse(argv: string[], env: NodeJS.ProcessEnv = {}): ParseResult {
  return parseDumbInitArgs(argv, env, VERSION, { programName: 'dumb-init' });
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

describe('dumb-init mode: defaults', () => {
  it("takes dumb-init's defaults: setsid, group signals, job control, one SIGTERM at the end", () => {
    const c = config(['app', '-v']);
    expect(c).toMatchObject({
      command: ['app', '-v'],
      compat: 'dumb-init',
      setsid: true,
      singleChild: false,
      subreaper: 'auto',
      verbosity: 0,
      remaining: 'leave',
      stopWithChild: true,
      termGroupOnExit: true,
      parentDeathSignal: null,
      warnOnReap: false,
    });
    // A table, looked up by signal: the order of its entries means nothing.
    expect(c.rewrite).toEqual(
      new Map([
        ['SIGTSTP', 'SIGSTOP'],
        ['SIGTTOU', 'SIGSTOP'],
        ['SIGTTIN', 'SIGSTOP'],
      ]),
    );
  });

  it('-c and DUMB_INIT_SETSID=0: no session, the child alone, no stop rewrite, no final SIGTERM', () => {
    for (const c of [config(['-c', 'app']), config(['--single-child', 'app']), config(['--single', 'app']), config(['app'], { DUMB_INIT_SETSID: '0' })]) {
      expect(c).toMatchObject({ setsid: false, singleChild: true, stopWithChild: true, termGroupOnExit: false });
      expect(c.rewrite.size).toBe(0);
    }
    expect(config(['app'], { DUMB_INIT_SETSID: '1' }).setsid).toBe(true);
    expect(config(['app'], { DUMB_INIT_SETSID: '' }).setsid).toBe(true);
  });

  it('-v, --verbose and DUMB_INIT_DEBUG=1 turn on debugging', () => {
    expect(config(['-v', 'app']).verbosity).toBe(2);
    expect(config(['--verb', 'app']).verbosity).toBe(2);
    expect(config(['app'], { DUMB_INIT_DEBUG: '1' }).verbosity).toBe(2);
    expect(config(['app'], { DUMB_INIT_DEBUG: 'yes' }).verbosity).toBe(0);
  });

  it('stops at the first operand: the program keeps its flags', () => {
    expect(config(['app', '-c']).command).toEqual(['app', '-c']);
    expect(config(['app', '-c']).setsid).toBe(true);
    expect(config(['--', '-c']).command).toEqual(['-c']);
  });
});

describe('dumb-init mode: --rewrite', () => {
  it('reads s:r as sscanf("%d:%d") with s 1-31 and r 0-31', () => {
    expect(parseDumbInitRewrite('15:2')).toEqual([15, 2]);
    expect(parseDumbInitRewrite('15:0')).toEqual([15, 0]);
    expect(parseDumbInitRewrite(' +15: 2')).toEqual([15, 2]);
    expect(parseDumbInitRewrite('15:1:1')).toEqual([15, 1]);
    expect(parseDumbInitRewrite('15:2junk')).toEqual([15, 2]);
    for (const bad of ['0:1', '32:1', '15:32', '15:-1', 'TERM:1', '15', '15 :2', '', ':2']) {
      expect(parseDumbInitRewrite(bad)).toBeNull();
    }
  });

  it('builds the rewrite table by name, 0 dropping, later winning, user rules before the stop rewrite', () => {
    const c = config(['-r', '15:2', '--rewrite', '10:0', '--rewrite=15:3', '-r20:20', 'app']);
    expect(c.rewrite.get('SIGTERM')).toBe('SIGQUIT');
    expect(c.rewrite.get('SIGUSR1')).toBeNull();
    expect(c.rewrite.get('SIGTSTP')).toBe('SIGTSTP');
    expect(c.rewrite.get('SIGTTIN')).toBe('SIGSTOP');
    expect(config(['-c', '-r', '20:0', 'app']).rewrite.get('SIGTSTP')).toBeNull();
  });

  it('rejects a bad rule with the three-line help, exit 1', () => {
    for (const bad of ['99:1', 'TERM:1', '0:1', '15']) {
      const e = failure(['-r', bad, 'app']);
      expect(e.exitCode).toBe(1);
      expect(e.message).toBe(
        'Usage: -r option takes <signum>:<signum>, where <signum> is between 1 and 31.\nThis option can be specified multiple times.\nUse --help for full usage.',
      );
    }
  });
});

describe('dumb-init mode: printing and errors', () => {
  it('-V/--version and -h/--help print on stderr and exit 0', () => {
    for (const flag of ['-V', '--version', '--vers']) {
      const r = parse([flag, 'app']);
      expect(r.kind).toBe('print');
      expect(printStream(r)).toBe('stderr');
      expect(r.kind === 'print' && r.text).toBe('dumb-init v1.2.5\n');
    }
    for (const flag of ['-h', '--help', '--he']) {
      const r = parse([flag]);
      expect(printStream(r)).toBe('stderr');
      expect(r.kind === 'print' && r.text).toMatch(/^Usage: dumb-init \[option\] command \[\[arg\] \.\.\.\]$/m);
    }
  });

  it('bad options: getopt_long’s message alone, exit 1', () => {
    const cases: Array<[string[], string]> = [
      [['-x', 'app'], "dumb-init: invalid option -- 'x'"],
      [['--bogus', 'app'], "dumb-init: unrecognized option '--bogus'"],
      [['--ver', 'app'], "dumb-init: option '--ver' is ambiguous; possibilities: '--verbose' '--version'"],
      [['--help=x', 'app'], "dumb-init: option '--help' doesn't allow an argument"],
      [['--rewrite'], "dumb-init: option '--rewrite' requires an argument"],
      [['-r'], "dumb-init: option requires an argument -- 'r'"],
    ];
    for (const [argv, message] of cases) {
      const e = failure(argv);
      expect(e.exitCode).toBe(1);
      expect(e.message).toBe(message);
    }
  });

  it('no program: the two-line usage, exit 1', () => {
    for (const argv of [[], ['-c'], ['-r', '15:2', '--']]) {
      const e = failure(argv);
      expect(e.exitCode).toBe(1);
      expect(e.message).toBe('Usage: dumb-init [option] program [args]\nTry dumb-init --help for full usage.');
    }
  });
});
