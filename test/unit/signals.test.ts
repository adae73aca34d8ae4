import { constants } from 'node:os';
import { describe, expect, it } from 'vitest';
import { suggestSignal } from '../../src/config-signal-spelling.js';
import { isErrno, strerror, type Errno } from '../../src/kernel/kernel.js';
import { defaultAction } from '../../src/kernel/sim/default-actions.js';
import { caughtSignals, rewriteSignal, type RewriteTable } from '../../src/signal-policy.js';
import {
  allSignalNumbers,
  asSignalName,
  isRealTime,
  isSignalName,
  JOB_CONTROL_STOP_SIGNALS,
  parseSignal,
  signalName,
  signalNumber,
  SIGRTMAX,
  SIGRTMIN,
  type SignalName,
} from '../../src/signals.js';

describe('signal names and numbers (signal(7))', () => {
  it.each([
    ['TERM', 'SIGTERM'],
    ['SIGTERM', 'SIGTERM'],
    ['sigterm', 'SIGTERM'],
    ['15', 'SIGTERM'],
    ['9', 'SIGKILL'],
    ['IOT', 'SIGABRT'],
    ['SIGPOLL', 'SIGIO'],
    ['RTMIN', 'SIGRTMIN'],
    ['RTMIN+1', 'SIGRTMIN+1'],
    ['SIGRTMAX-2', 'SIGRTMAX-2'],
    ['RTMIN+16', 'SIGRTMAX-14'],
    ['35', 'SIGRTMIN+1'],
    ['64', 'SIGRTMAX'],
  ])('parses %s as %s', (text, name) => {
    expect(parseSignal(text)).toBe(name);
  });

  it.each(['FOO', '0', '65', '32', 'SIG33', 'RTMIN+31', 'RTMAX+1', '', '-1', '1.5', 'SIG', 'SIG0'])('rejects %j', (text) => {
    expect(parseSignal(text)).toBeNull();
  });

  it('round-trips every number 1-64, glibc\'s reserved 32 and 33 by number', () => {
    for (let n = 1; n <= 64; n++) expect(signalNumber(signalName(n))).toBe(n);
    expect(signalName(32)).toBe('SIG32');
    expect(signalName(33)).toBe('SIG33');
    // Named for logs and exit codes, but not a signal a user can ask pidone for.
    expect(parseSignal('SIG32')).toBeNull();
    expect(new Set(Array.from({ length: 64 }, (_, i) => signalName(i + 1))).size).toBe(64);
  });

  it('has no name for a number Linux has no signal for', () => {
    for (const n of [0, -1, 65, 128, 1.5, Number.NaN]) expect(() => signalName(n)).toThrow(TypeError);
  });

  it('numbers the standard signals as the running system does, aliases included', () => {
    for (const [name, num] of Object.entries(constants.signals)) expect(signalNumber(parseSignal(name)!)).toBe(num);
    for (let n = 1; n < 32; n++) expect(constants.signals).toHaveProperty(signalName(n), n);
  });

  it('names real-time signals as kill -l does', () => {
    expect(signalName(34)).toBe('SIGRTMIN');
    expect(signalName(35)).toBe('SIGRTMIN+1');
    expect(signalName(49)).toBe('SIGRTMIN+15');
    expect(signalName(50)).toBe('SIGRTMAX-14');
    expect(signalName(63)).toBe('SIGRTMAX-1');
    expect(signalName(64)).toBe('SIGRTMAX');
    expect(signalName(SIGRTMIN)).toBe('SIGRTMIN');
    expect(signalName(SIGRTMAX)).toBe('SIGRTMAX');
    expect(isRealTime('SIGRTMIN+3')).toBe(true);
    expect(isRealTime('SIGTERM')).toBe(false);
    // Queued like the others, so forwarded once per occurrence.
    expect(isRealTime('SIG32')).toBe(true);
    expect(allSignalNumbers()).toEqual([...Array.from({ length: 31 }, (_, i) => i + 1), ...Array.from({ length: 31 }, (_, i) => i + 34)]);
  });

  it('isSignalName and asSignalName take exactly the names signalName() gives', () => {
    for (let n = 1; n <= 64; n++) {
      expect(isSignalName(signalName(n))).toBe(true);
      expect(asSignalName(signalName(n))).toBe(signalName(n));
    }
    // Spellings a user may write are parseSignal()'s, not names: aliases, short, lower
    // case, numbers; and what is no signal at all.
    for (const text of ['SIGIOT', 'SIGPOLL', 'TERM', 'sigterm', '15', 'SIG0', 'SIG65', 'SIG31', 'SIGRTMIN+0', 'SIGRTMIN+16', 'SIGRTMAX-15', 'SIGRTMAX+1', 'SIGFOO', '', 'constructor']) {
      expect(isSignalName(text)).toBe(false);
      expect(() => asSignalName(text)).toThrow(`unknown signal name ${text}`);
    }
  });

  it('SignalName is a union of names, not any string', () => {
    // @ts-expect-error: a misspelt signal is a compile error.
    const misspelt: SignalName = 'SIGTREM';
    // @ts-expect-error: SIGRTMIN+16 is spelt SIGRTMAX-14.
    const unnamed: SignalName = 'SIGRTMIN+16';
    expect([misspelt, unnamed].some((s) => isSignalName(s))).toBe(false);
  });

  it('suggests a close name', () => {
    expect(suggestSignal('TREM')).toBe('SIGTERM');
    expect(suggestSignal('SIGUSR3')).toMatch(/^SIGUSR[12]$/);
    expect(suggestSignal('FOO')).toBeNull();
    expect(suggestSignal('HUPP')).toBe('SIGHUP');
    // An alias is suggested by the name it stands for.
    expect(suggestSignal('IOTT')).toBe('SIGABRT');
  });

  it('catches every signal 1-64 but SIGKILL and SIGSTOP: fault signals and glibc\'s 32 and 33 included', () => {
    const caught = caughtSignals();
    for (const s of ['SIGKILL', 'SIGSTOP'] as const) expect(caught).not.toContain(s);
    for (const s of ['SIGTERM', 'SIGINT', 'SIGCHLD', 'SIGUSR1', 'SIGPIPE', 'SIGWINCH', 'SIGRTMIN', 'SIGRTMAX', 'SIGTSTP'] as const) {
      expect(caught).toContain(s);
    }
    for (const s of ['SIGSEGV', 'SIGBUS', 'SIGFPE', 'SIGILL', 'SIGTRAP', 'SIGSYS', 'SIGABRT', 'SIG32', 'SIG33'] as const) expect(caught).toContain(s);
    expect(caught).toHaveLength(64 - 2);
  });

  it('rewrites through the table, null drops', () => {
    const table: RewriteTable = new Map([
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
    expect(defaultAction('SIG32')).toBe('term');
  });

  it('the job-control stop signals are the catchable ones that stop by default', () => {
    const stoppers = caughtSignals().filter((s) => defaultAction(s) === 'stop');
    expect([...JOB_CONTROL_STOP_SIGNALS].sort()).toEqual(stoppers.sort());
    expect(JOB_CONTROL_STOP_SIGNALS).toEqual(['SIGTSTP', 'SIGTTIN', 'SIGTTOU']);
  });
});

describe('errno names', () => {
  it('isErrno takes the names Node and the addon give', () => {
    for (const code of ['ESRCH', 'EPERM', 'ECHILD', 'ENOEXEC', 'ELIBBAD', 'EHWPOISON', 'ENOTSUP', 'EOPNOTSUPP']) expect(isErrno(code)).toBe(true);
    // Every name Node knows, but EWOULDBLOCK: EAGAIN's alias, which neither
    // strerrorname_np(3) nor libuv reports.
    for (const code of Object.keys(constants.errno)) if (code !== 'EWOULDBLOCK') expect(isErrno(code)).toBe(true);
  });

  it('isErrno rejects what is not an errno name', () => {
    for (const code of ['esrch', 'ESRHC', 'E', '', 'UNKNOWN', 'EOF', 'ERR_INVALID_ARG_TYPE', 'toString', '__proto__', 'constructor', 'EWOULDBLOCK']) {
      expect(isErrno(code)).toBe(false);
    }
  });

  it('strerror gives glibc\'s message', () => {
    expect(strerror('ESRCH')).toBe('No such process');
    expect(strerror('ENOEXEC')).toBe('Exec format error');
    expect(strerror('ELIBBAD')).toBe('Accessing a corrupted shared library');
  });

  it('Errno is a union of names, not any string', () => {
    // @ts-expect-error: a misspelt errno is a compile error.
    const misspelt: Errno = 'ESRHC';
    expect(isErrno(misspelt)).toBe(false);
  });
});
