import { describe, expect, it } from 'vitest';
import { parseDuration, formatDuration } from '../../src/duration.js';
import { execFailureCode, exitCodeOf, remapExitCode } from '../../src/exit-status.js';

describe('exit status, as a shell reports it', () => {
  it('passes the code through; 128+n for signal n', () => {
    expect(exitCodeOf({ pid: 5, kind: 'exited', code: 0 })).toBe(0);
    expect(exitCodeOf({ pid: 5, kind: 'exited', code: 42 })).toBe(42);
    expect(exitCodeOf({ pid: 5, kind: 'signaled', signal: 'SIGTERM', core: false })).toBe(143);
    expect(exitCodeOf({ pid: 5, kind: 'signaled', signal: 'SIGKILL', core: false })).toBe(137);
    expect(exitCodeOf({ pid: 5, kind: 'signaled', signal: 'SIGSEGV', core: true })).toBe(139);
    // glibc's two reserved real-time signals, as bash reports them.
    expect(exitCodeOf({ pid: 5, kind: 'signaled', signal: 'SIG32', core: false })).toBe(160);
    expect(exitCodeOf({ pid: 5, kind: 'signaled', signal: 'SIG33', core: false })).toBe(161);
  });

  it('127 for not found, 126 for not executable', () => {
    expect(execFailureCode('ENOENT')).toBe(127);
    expect(execFailureCode('ENOTDIR')).toBe(127);
    expect(execFailureCode('EACCES')).toBe(126);
    expect(execFailureCode('ENOEXEC')).toBe(126);
    expect(execFailureCode('EISDIR')).toBe(126);
  });

  it('remaps last', () => {
    const table = new Map([
      [143, 0],
      [3, 4],
    ]);
    expect(remapExitCode(table, 143)).toBe(0);
    expect(remapExitCode(table, 3)).toBe(4);
    expect(remapExitCode(table, 5)).toBe(5);
  });
});

describe('durations', () => {
  it.each([
    ['0', 0],
    ['500ms', 500],
    ['2s', 2000],
    ['1.5s', 1500],
    ['1m', 60000],
    ['1h', 3600000],
  ])('%s = %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', '5', '-1s', '1d', 's', '1 s', '999999h', 'NaNs'])('rejects %j', (text) => {
    expect(parseDuration(text)).toBeNull();
  });

  it('formats', () => {
    expect(formatDuration(5000)).toBe('5s');
    expect(formatDuration(250)).toBe('250ms');
    expect(formatDuration(120000)).toBe('2m');
  });
});
