import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { executableCandidates, parseLauncherFds } from '../../src/kernel/linux/linux-kernel.js';
import { candidatePaths, loadAddon, NativeLoadError } from '../../src/kernel/linux/loader.js';
import { childEnvironment } from '../../src/environment.js';

describe('execvp candidates', () => {
  it('uses the path as given when it has a slash', () => {
    expect(executableCandidates('./x', ['PATH=/bin'])).toEqual(['./x']);
    expect(executableCandidates('/usr/bin/env', [])).toEqual(['/usr/bin/env']);
  });
  it('searches PATH in order; an empty entry is the current directory', () => {
    expect(executableCandidates('ls', ['PATH=/a:/b/::/c'])).toEqual(['/a/ls', '/b/ls', 'ls', '/c/ls']);
  });
  it('falls back to the default PATH', () => {
    expect(executableCandidates('ls', [])).toContain('/usr/bin/ls');
  });
});

describe('launcher fd record', () => {
  it('is trusted only for our own pid', () => {
    expect(parseLauncherFds('42:7,12,3', 42)).toEqual([3, 7, 12]);
    expect(parseLauncherFds('42:', 42)).toEqual([]);
    expect(parseLauncherFds('41:7', 42)).toBeNull();
    expect(parseLauncherFds('garbage', 42)).toBeNull();
    expect(parseLauncherFds(undefined, 42)).toBeNull();
  });
});

describe('child environment', () => {
  it('drops the launcher variables and restores the user NODE_OPTIONS', () => {
    const env = childEnvironment({
      PATH: '/bin',
      PIDONE_LAUNCHER_FDS: '1:',
      PIDONE_SAVED_NODE_OPTIONS: '--require ./tracer.js',
    });
    expect(env).toEqual(['PATH=/bin', 'NODE_OPTIONS=--require ./tracer.js']);
  });
  it('restores every Node start-up variable the launcher held aside, over a value set since', () => {
    const env = childEnvironment({
      NODE_EXTRA_CA_CERTS: '/from/pidone.pem',
      PIDONE_SAVED_NODE_EXTRA_CA_CERTS: '/etc/ssl/user.pem',
      PIDONE_SAVED_NODE_V8_COVERAGE: '/cov',
      PIDONE_SAVED_NODE_CHANNEL_FD: '3',
    });
    expect(env).toEqual(['NODE_EXTRA_CA_CERTS=/etc/ssl/user.pem', 'NODE_V8_COVERAGE=/cov', 'NODE_CHANNEL_FD=3']);
  });
  it('passes everything else through', () => {
    expect(childEnvironment({ A: '1', NODE_OPTIONS: '--x' })).toEqual(['A=1', 'NODE_OPTIONS=--x']);
  });
});

describe('addon loader', () => {
  it('names every path tried, the ABI and both fixes when nothing is built', () => {
    const root = mkdtempSync(join(tmpdir(), 'pidone-loader-'));
    let error: unknown;
    try {
      loadAddon(undefined, root);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(NativeLoadError);
    const message = (error as Error).message;
    for (const path of candidatePaths(root)) expect(message).toContain(path);
    expect(message).toContain(`ABI ${process.versions.modules}`);
    expect(message).toContain('npm rebuild');
    expect(message).toContain('pidone-sim');
  });

  it('reports a file that exists but does not load with its own error', () => {
    const root = mkdtempSync(join(tmpdir(), 'pidone-loader-'));
    mkdirSync(join(root, 'build', 'Release'), { recursive: true });
    writeFileSync(join(root, 'build', 'Release', 'pidone.node'), 'not an ELF file');
    expect(() => loadAddon(undefined, root)).toThrow(/failed to load: .*(invalid ELF header|too short)/);
  });

  it('accepts an injected binding', () => {
    const fake = { SIGRTMIN: 34 } as never;
    expect(loadAddon(fake)).toBe(fake);
  });
});

describe('the start-up fast path', () => {
  it('takes `pidone -- cmd` and `pidone cmd`, and nothing that needs the parser', async () => {
    const { fastPathCommand } = await import('../../src/main.js');
    const self = '/usr/lib/node_modules/pidone/bin/pidone';
    expect(fastPathCommand(['--', 'sleep', '1'], {}, self)).toEqual(['sleep', '1']);
    expect(fastPathCommand(['sleep', '1', '-v'], {}, self)).toEqual(['sleep', '1', '-v']);
    expect(fastPathCommand(['--', '-weird'], {}, self)).toEqual(['-weird']);
    expect(fastPathCommand(['-v', '--', 'sleep'], {}, self)).toBeNull();
    expect(fastPathCommand(['--'], {}, self)).toBeNull();
    expect(fastPathCommand([], {}, self)).toBeNull();
    expect(fastPathCommand(['--', ''], {}, self)).toBeNull();
    // Another tool's name or PIDONE_COMPAT: that tool's command line.
    expect(fastPathCommand(['--', 'sleep'], {}, '/sbin/docker-init')).toBeNull();
    expect(fastPathCommand(['--', 'sleep'], { PIDONE_COMPAT: 'tini' }, self)).toBeNull();
    expect(fastPathCommand(['--', 'sleep'], { PIDONE_COMPAT: 'none' }, self)).toEqual(['sleep']);
  });
});
