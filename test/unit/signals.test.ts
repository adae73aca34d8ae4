import { describe, expect, it } from 'vitest';
import {
  caughtSignals,
  defaultAction,
  isRealTime,
  parseSignal,
  rewriteSignal,
  signalName,
  signalNumber,
  suggestSignal,
} from '../../src/signals.js';

describe('signal names and numbers (signal(7))', () => {
  it.each([
    ['TERM', 'SIGTERM'],
    ['SIGTERM', 'SIGTERM'],
    ['sigterm', 'SIGTERM'],
    ['15', 'SIGTERM'],
    ['9', 'SIGKILL'],
    ['IOT', 'SIGABRT'],
    ['RTMIN', 'SIGRTMIN'],
    ['RTMIN+1', 'SIGRTMIN+1'],
    ['SIGRTMAX-2', 'SIGRTMAX-2'],
    ['35', 'SIGRTMIN+1'],
    ['64', 'SIGRTMAX'],
  ])('parses %s as %s', (text, name) => {
    expect(parseSignal(text)).toBe(name);
  });

  it.each(['FOO', '0', '65', '32', 'RTMIN+31', 'RTMAX+1', '', '-1', '1.5', 'SIG'])('rejects %j', (text) => {
    expect(parseSignal(text)).toBeNull();
  });

  it('round-trips every number 1-64, glibc\'s reserved 32 and 33 by number', () => {
    for (let n = 1; n <= 64; n++) expect(signalNumber(signalName(n))).toBe(n);
    expect(signalName(32)).toBe('SIG32');
    expect(signalName(33)).toBe('SIG33');
    // Named for logs and exit codes, but not a signal a user can ask pidone for.
    expect(parseSignal('SIG32')).toBeNull();
  });

  it('names real-time signals as kill -l does', () => {
    expect(signalName(34)).toBe('SIGRTMIN');
    expect(signalName(49)).toBe('SIGRTMIN+15');
    expect(signalName(50)).toBe('SIGRTMAX-14');
    expect(isRealTime('SIGRTMIN+3')).toBe(true);
    expect(isRealTime('SIGTERM')).toBe(false);
    // Queued like the others, so forwarded once per occurrence.
    expect(isRealTime('SIG32')).toBe(true);
  });

  it('suggests a close name', () => {
    expect(suggestSignal('TREM')).toBe('SIGTERM');
    expect(suggestSignal('SIGUSR3')).toMatch(/^SIGUSR[12]$/);
    expect(suggestSignal('FOO')).toBeNull();
    expect(suggestSignal('HUPP')).toBe('SIGHUP');
  });

  it('catches every signal 1-64 but SIGKILL and SIGSTOP: fault signals and glibc\'s 32 and 33 included', () => {
    const caught = caughtSignals();
    for (const s of ['SIGKILL', 'SIGSTOP']) expect(caught).not.toContain(s);
    for (const s of ['SIGTERM', 'SIGINT', 'SIGCHLD', 'SIGUSR1', 'SIGPIPE', 'SIGWINCH', 'SIGRTMIN', 'SIGRTMAX', 'SIGTSTP']) {
      expect(caught).toContain(s);
    }
    for (const s of ['SIGSEGV', 'SIGBUS', 'SIGFPE', 'SIGILL', 'SIGTRAP', 'SIGSYS', 'SIGABRT', 'SIG32', 'SIG33']) expect(caught).toContain(s);
    expect(caught).toHaveLength(64 - 2);
  });

  it('rewrites through the table, null drops', () => {
    const table = new Map([
      ['SIGTERM', 'SIGINT'],
      ['SIGWINCH', null],
    ]);
    expect(rewriteSignal(table, 'SIGTERM')).toBe('SIGINT');
    expect(rewriteSignal(table, 'SIGWINCH')).toBeNull();
    expect(rewriteSignal(table, 'SIGHUP')).toBe('SIGHUP');
  });

  it('knows default actions', () => {
    expect(defaultAction('SIGCHLD')).toBe('ignore');
    expect(defaultAction('SIGTSTP')).toBe('stop');
    expect(defaultAction('SIGQUIT')).toBe('core');
    expect(defaultAction('SIGRTMIN+4')).toBe('term');
  });
});
