import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config.js';
import { execFailureReport, parseCompatArgs, selectCompat } from '../../src/compat/index.js';
import { parseDockerInitVersion, parseDockerInitVersionOld } from './docker-init-version.js';

describe('selectCompat', () => {
  it('defaults to none', () => {
    expect(selectCompat('/usr/local/bin/pidone', {}, ['-v', 'app'])).toEqual({ mode: 'none', argv: ['-v', 'app'], source: 'default' });
  });

  it('picks the mode from the name pidone was invoked by', () => {
    for (const [path, mode] of [
      ['/sbin/tini', 'tini'],
      ['tini', 'tini'],
      ['/usr/bin/tini-static', 'tini'],
      ['/sbin/docker-init', 'tini'],
      ['/usr/local/bin/dumb-init', 'dumb-init'],
      ['/opt/tini.sh', 'none'],
      ['/opt/mytini', 'none'],
    ] as const) {
      expect(selectCompat(path, {}, ['-s', 'app'])).toMatchObject({ mode, argv: ['-s', 'app'] });
    }
  });

  it('PIDONE_COMPAT overrides the name; empty is unset', () => {
    expect(selectCompat('/sbin/tini', { PIDONE_COMPAT: 'dumb-init' }, ['app'])).toMatchObject({ mode: 'dumb-init', source: 'env' });
    expect(selectCompat('/sbin/tini', { PIDONE_COMPAT: 'none' }, ['app'])).toMatchObject({ mode: 'none', source: 'env' });
    expect(selectCompat('/sbin/tini', { PIDONE_COMPAT: '' }, ['app'])).toMatchObject({ mode: 'tini', source: 'argv0' });
  });

  it('a leading --compat overrides both and is removed', () => {
    expect(selectCompat('/sbin/tini', { PIDONE_COMPAT: 'tini' }, ['--compat', 'dumb-init', '-c', 'app'])).toEqual({
      mode: 'dumb-init',
      argv: ['-c', 'app'],
      source: 'flag',
    });
    expect(selectCompat('pidone', {}, ['--compat=tini', '-s', 'app'])).toEqual({ mode: 'tini', argv: ['-s', 'app'], source: 'flag' });
    // Only leading: later it belongs to the tool's own command line.
    expect(selectCompat('pidone', {}, ['-v', '--compat', 'tini'])).toMatchObject({ mode: 'none', argv: ['-v', '--compat', 'tini'] });
  });

  it('names a bad value and the accepted ones', () => {
    for (const [env, argv, named] of [
      [{ PIDONE_COMPAT: 'tiny' }, ['app'], "PIDONE_COMPAT: 'tiny'"],
      [{}, ['--compat', 'catatonit', 'app'], "--compat: 'catatonit'"],
      [{}, ['--compat=', 'app'], "--compat: ''"],
    ] as const) {
      try {
        selectCompat('pidone', env, argv);
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        expect((e as ConfigError).exitCode).toBe(2);
        expect((e as Error).message).toContain(named);
        expect((e as Error).message).toContain('tini, dumb-init, none');
        continue;
      }
      throw new Error('expected a ConfigError');
    }
    expect(() => selectCompat('pidone', {}, ['--compat'])).toThrow(/--compat needs a value/);
  });

  it('dispatches to the mode’s parser', () => {
    expect(parseCompatArgs('tini', ['app'], {}, '0.1.0')).toMatchObject({ kind: 'run', config: { compat: 'tini' } });
    expect(parseCompatArgs('dumb-init', ['app'], {}, '0.1.0')).toMatchObject({ kind: 'run', config: { compat: 'dumb-init' } });
  });
});

describe('execFailureReport', () => {
  it('native: like a shell', () => {
    expect(execFailureReport('none', 'nope', 'ENOENT')).toEqual({ exitCode: 127, line: "pidone: cannot run 'nope': No such file or directory" });
    expect(execFailureReport('none', '/etc/passwd', 'EACCES')).toEqual({ exitCode: 126, line: "pidone: cannot run '/etc/passwd': Permission denied" });
    expect(execFailureReport('none', '/a/b', 'ENOTDIR').exitCode).toBe(127);
    expect(execFailureReport('none', 'x', 'ENOEXEC').exitCode).toBe(126);
  });

  it('tini: 127 for ENOENT, 126 for EACCES, 1 otherwise', () => {
    expect(execFailureReport('tini', 'nope', 'ENOENT', 7)).toEqual({ exitCode: 127, line: '[FATAL tini (7)] exec nope failed: No such file or directory' });
    expect(execFailureReport('tini', '/tmp', 'EACCES', 7)).toEqual({ exitCode: 126, line: '[FATAL tini (7)] exec /tmp failed: Permission denied' });
    expect(execFailureReport('tini', '/a/b', 'ENOTDIR', 7).exitCode).toBe(1);
    expect(execFailureReport('tini', 'x', 'ENOEXEC', 7).exitCode).toBe(1);
  });

  it('dumb-init: 2, whatever the error', () => {
    expect(execFailureReport('dumb-init', 'nope', 'ENOENT')).toEqual({ exitCode: 2, line: '[dumb-init] nope: No such file or directory' });
    expect(execFailureReport('dumb-init', '/tmp', 'EACCES')).toEqual({ exitCode: 2, line: '[dumb-init] /tmp: Permission denied' });
  });
});

describe('docker info parsing (the test parser itself)', () => {
  it("reads tini's own formats", () => {
    expect(parseDockerInitVersion('tini version 0.19.0\n')).toEqual({ version: '0.19.0', commit: '' });
    expect(parseDockerInitVersion('tini version 0.18.0 - git.fec3683\n')).toEqual({ version: '0.18.0', commit: 'fec3683' });
    expect(parseDockerInitVersionOld('tini version 0.18.0 - git.fec3683\n', 'fec3683')).toBe('fec3683');
    expect(parseDockerInitVersionOld('tini version 0.19.0\n')).toBe('v0.19.0');
    expect(() => parseDockerInitVersion('pidone 0.1.0\n')).toThrow(/unknown output format/);
    expect(() => parseDockerInitVersionOld('tini version 0.1 - git.0123456789abcdef')).toThrow(/panic/);
  });
});
