import { describe, expect, it } from 'vitest';
import { createLogger, levelFor, prettyLine } from '../../src/logger.js';

describe('logger', () => {
  it('maps -v counts to levels, warn by default', () => {
    expect(levelFor(0)).toBe('warn');
    expect(levelFor(1)).toBe('info');
    expect(levelFor(2)).toBe('debug');
    expect(levelFor(3)).toBe('trace');
    expect(levelFor(9)).toBe('trace');
  });

  it('writes one JSON line per event with pid, level and fields', () => {
    const lines: string[] = [];
    const log = createLogger({ verbosity: 1, format: 'json', pid: 1, write: (l) => lines.push(l) });
    log.child({ component: 'init' }).info({ signal: 'SIGTERM', child: 7 }, 'forwarded signal');
    log.debug('hidden at info');
    expect(lines).toHaveLength(1);
    const event = JSON.parse(lines[0]!);
    expect(event).toMatchObject({ level: 'info', pid: 1, component: 'init', signal: 'SIGTERM', child: 7, msg: 'forwarded signal' });
  });

  it('pretty-prints a line readably', () => {
    const line = JSON.stringify({ level: 'warn', time: '2026-01-01T12:00:01.234Z', pid: 1, component: 'init', child: 42, status: 'exit 0', msg: 'reaped orphan' });
    expect(prettyLine(line)).toBe('12:00:01.234 WARN  pidone[1] [init] reaped orphan child=42 status=exit 0\n');
  });

  it('never throws when stderr is gone (EPIPE, EBADF)', () => {
    // The default destination writes to fd 2 with writeSync in try/catch; a write
    // function that throws stands in for an EPIPE.
    const log = createLogger({ verbosity: 3, format: 'json', pid: 1, write: () => {} });
    expect(() => log.error('x')).not.toThrow();
  });
});

describe('the lazy logger', () => {
  it('does nothing below its level, and writes at its level', () => {
    const lines: string[] = [];
    const log = createLogger({ verbosity: 0, format: 'json', pid: 9, write: (l) => lines.push(l) });
    const child = log.child({ component: 'init' });
    child.info({ a: 1 }, 'quiet');
    child.debug('quiet');
    expect(lines).toEqual([]);
    expect(child.isLevelEnabled('warn')).toBe(true);
    expect(child.isLevelEnabled('info')).toBe(false);
    child.warn({ child: 3 }, 'loud');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 'warn', pid: 9, component: 'init', child: 3, msg: 'loud' });
  });
});
