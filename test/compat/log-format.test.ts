import { describe, expect, it } from 'vitest';
import { defaultConfig, type Config } from '../../src/config-defaults.js';
import { dumbInitLineFormat, strsignal, tiniLineFormat } from '../../src/compat/log-format.js';
import { createLogger } from '../../src/logger.js';

function tini(verbosity: number): { config: Config; lines: string[]; log: ReturnType<typeof createLogger> } {
  const config: Config = { ...defaultConfig(['app']), compat: 'tini', verbosity: verbosity - 1 };
  const lines: string[] = [];
  const log = createLogger({ verbosity: config.verbosity, pid: 7, lineFormat: tiniLineFormat(config, 7), write: (l) => lines.push(l) });
  return { config, lines, log };
}

describe('compat log lines: tini', () => {
  it("says pidone's events in tini's words, at tini's levels, and nothing below its verbosity", () => {
    const { lines, log } = tini(1);
    const init = log.child({ component: 'init' });
    init.info({ child: 9, command: ['app'] }, 'started child');
    init.debug({ signal: 'SIGUSR1' }, 'received signal');
    // pidone logs this at debug; tini warns.
    init.debug({ signal: 'SIGUSR1', child: 9 }, 'nothing to forward to (ESRCH)');
    init.warn({ child: 12, status: 'exit 0' }, 'reaped orphan');
    expect(lines).toEqual(['[WARN  tini (7)] Child was dead when forwarding signal\n', '[WARN  tini (7)] Reaped zombie process with pid=12\n']);
  });

  it('verbosity 0 shows FATAL lines only; a warning of pidone’s own shows in tini’s frame', () => {
    const quiet = tini(0);
    quiet.log.warn({ child: 12, status: 'exit 0' }, 'reaped orphan');
    quiet.log.error({ err: 'boom' }, 'internal error in reap; carrying on');
    expect(quiet.lines).toEqual(['[FATAL tini (7)] internal error in reap; carrying on err=boom\n']);
    const loud = tini(1);
    loud.log.child({ component: 'init' }).warn({ signal: 'SIGTERM', err: 'EPERM' }, 'forwarding failed');
    expect(loud.lines).toEqual(['[WARN  tini (7)] forwarding failed signal=SIGTERM err=EPERM\n']);
  });

  it('tells callers which of pidone’s levels are on, by tini’s verbosity', () => {
    expect(tini(1).log.isLevelEnabled('debug')).toBe(false);
    expect(tini(3).log.isLevelEnabled('debug')).toBe(true);
    expect(tini(3).log.isLevelEnabled('trace')).toBe(false);
    expect(tini(4).log.isLevelEnabled('trace')).toBe(true);
  });

  it('strsignal as glibc says it', () => {
    expect(strsignal(10)).toBe('User defined signal 1');
    expect(strsignal(35)).toBe('Real-time signal 1');
  });
});

describe('compat log lines: dumb-init', () => {
  const make = (verbosity: number, env: NodeJS.ProcessEnv = {}) => {
    const config: Config = { ...defaultConfig(['app']), compat: 'dumb-init', verbosity, setsid: false, singleChild: true };
    const lines: string[] = [];
    const log = createLogger({ verbosity, pid: 7, lineFormat: dumbInitLineFormat(config, env, () => false), write: (l) => lines.push(l) });
    return { lines, log };
  };

  it('says nothing without debug but pidone’s own warnings; after Goodbye, nothing', () => {
    const { lines, log } = make(0, { DUMB_INIT_DEBUG: '0' });
    log.info({ child: 9, command: ['app'] }, 'started child');
    log.warn({ signal: 'SIGTERM', err: 'EPERM' }, 'forwarding failed');
    expect(lines).toEqual(['[dumb-init] forwarding failed signal=SIGTERM err=EPERM\n']);
  });

  it('in debug mode: the variables read, the spawn, the exit and its SIGTERM; then silence', () => {
    const { lines, log } = make(2, { DUMB_INIT_DEBUG: '1', DUMB_INIT_SETSID: '0' });
    log.info({ child: 9, command: ['app'] }, 'started child');
    log.info({ child: 9, status: 'killed by SIGUSR2', exitCode: 140 }, 'child exited');
    log.debug({ child: 10, status: 'exit 0' }, 'reaped orphan');
    expect(lines.join('')).toBe(
      [
        '[dumb-init] Running in debug mode.',
        '[dumb-init] Not running in setsid mode.',
        '[dumb-init] Child spawned with PID 9.',
        // Reaped before its SIGCHLD was handled: dumb-init only reaps on one.
        '[dumb-init] Received signal 17.',
        '[dumb-init] A child with PID 9 was terminated by signal 12.',
        '[dumb-init] Forwarded signal 15 to children.',
        '[dumb-init] Child exited with status 140. Goodbye.',
        '',
      ].join('\n'),
    );
  });
});
