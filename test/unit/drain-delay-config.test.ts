/**
 * --drain-delay and PIDONE_DRAIN_DELAY as the parsers read them: the flag, the variable
 * when the flag is absent, the compat modes, and the one-line errors.
 */
import { describe, expect, it } from 'vitest';
import { parseCompatArgs } from '../../src/compat/index.js';
import { ConfigError, helpText, parseArgs } from '../../src/config.js';
import { baseConfig } from '../../src/config-defaults.js';
import { fastPathCommand } from '../../src/main.js';

function drainDelay(args: string[], env: NodeJS.ProcessEnv = {}): number {
  const r = parseArgs(args, env);
  if (r.kind !== 'run') throw new Error(`expected run, got ${r.kind}`);
  return r.config.drainDelayMs;
}

function error(parse: () => unknown): ConfigError {
  try {
    parse();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

const ACCEPTED = 'accepted: a number with a unit ms, s, m or h (500ms, 2s, 1.5s, 1m), or 0';

describe('--drain-delay', () => {
  it('is 0 by default, and takes the durations --grace takes', () => {
    expect(drainDelay(['x'])).toBe(0);
    expect(drainDelay(['--drain-delay', '2s', 'x'])).toBe(2000);
    expect(drainDelay(['--drain-delay=1.5s', 'x'])).toBe(1500);
    expect(drainDelay(['--drain-delay', '250ms', '--', 'x'])).toBe(250);
    expect(drainDelay(['--drain-delay', '1m', 'x'])).toBe(60_000);
    expect(drainDelay(['--drain-delay', '0', 'x'])).toBe(0);
  });

  it('the last one given wins, as for --grace', () => {
    expect(drainDelay(['--drain-delay', '1s', '--drain-delay', '3s', 'x'])).toBe(3000);
  });

  it.each(['10', '-1s', '2 s', 'soon', ''])('refuses %j in one line naming the flag and what is accepted, exit 2', (value) => {
    const e = error(() => parseArgs(['--drain-delay', value, 'x'], {}));
    expect(e.message).toBe(`pidone: --drain-delay: '${value}' is not a duration; ${ACCEPTED}`);
    expect(e.exitCode).toBe(2);
  });

  it('needs a value', () => {
    expect(error(() => parseArgs(['--drain-delay'], {})).message).toBe('pidone: option \'--drain-delay\' needs a value DURATION');
  });

  it('is in --help, with its variable', () => {
    expect(helpText()).toMatch(/--drain-delay DURATION +Hold the first SIGTERM .*\(default 0; env PIDONE_DRAIN_DELAY\)$/m);
  });
});

describe('PIDONE_DRAIN_DELAY', () => {
  it('sets the delay when the flag is absent; unset or empty is 0', () => {
    expect(drainDelay(['x'], { PIDONE_DRAIN_DELAY: '2s' })).toBe(2000);
    expect(drainDelay(['x'], { PIDONE_DRAIN_DELAY: '' })).toBe(0);
    expect(drainDelay(['x'], {})).toBe(0);
  });

  it('the flag wins over it (even over a bad value)', () => {
    expect(drainDelay(['--drain-delay', '500ms', 'x'], { PIDONE_DRAIN_DELAY: '2s' })).toBe(500);
    expect(drainDelay(['--drain-delay', '0', 'x'], { PIDONE_DRAIN_DELAY: 'soon' })).toBe(0);
  });

  it('a bad value is one line naming the variable and what is accepted, exit 2, control characters escaped', () => {
    const e = error(() => parseArgs(['x'], { PIDONE_DRAIN_DELAY: '5\nseconds' }));
    expect(e.message).toBe(`pidone: PIDONE_DRAIN_DELAY: '5\\x0aseconds' is not a duration; ${ACCEPTED}`);
    expect(e.exitCode).toBe(2);
  });

  it.each(['tini', 'dumb-init'] as const)('sets the delay in %s compat mode, where no flag exists for it', (mode) => {
    const r = parseCompatArgs(mode, ['--', 'x'], { PIDONE_DRAIN_DELAY: '3s' }, '0.0.0');
    expect(r.kind === 'run' && r.config.drainDelayMs).toBe(3000);
    const none = parseCompatArgs(mode, ['--', 'x'], {}, '0.0.0');
    expect(none.kind === 'run' && none.config.drainDelayMs).toBe(0);
    const bad = error(() => parseCompatArgs(mode, ['--', 'x'], { PIDONE_DRAIN_DELAY: '3' }, '0.0.0'));
    expect(bad.message).toBe(`pidone: PIDONE_DRAIN_DELAY: '3' is not a duration; ${ACCEPTED}`);
    expect(bad.exitCode).toBe(2);
  });

  it('applies on the fast path of `pidone -- cmd` too, checked the same way', () => {
    expect(fastPathCommand(['--', 'x'], { PIDONE_DRAIN_DELAY: '2s' }, '/usr/bin/pidone')).toEqual(['x']);
    expect(baseConfig(['x'], { PIDONE_DRAIN_DELAY: '2s' }).drainDelayMs).toBe(2000);
    expect(baseConfig(['x'], { PIDONE_DRAIN_DELAY: '' }).drainDelayMs).toBe(0);
    const bad = error(() => baseConfig(['x'], { PIDONE_DRAIN_DELAY: '3' }));
    expect(bad.message).toBe(`pidone: PIDONE_DRAIN_DELAY: '3' is not a duration; ${ACCEPTED}`);
  });
});
