import { mkdtempSync, mkdirSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KernelError, NamespaceRefusedError, type SpawnRequest } from '../../src/kernel/kernel.js';
import type { NativeAddon } from '../../src/kernel/linux/addon.js';
import { executableCandidates, LinuxKernel, parseLauncherFds } from '../../src/kernel/linux/linux-kernel.js';
import { candidatePaths, loadAddon, NativeLoadError } from '../../src/kernel/linux/loader.js';
import { childEnvironment } from '../../src/environment.js';
import { signalName } from '../../src/signals.js';

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

/**
 * A stand-in for the addon with only what the LinuxKernel constructor and the calls
 * under test use; `overrides` replace single functions.
 */
function fakeAddon(overrides: Partial<NativeAddon>): NativeAddon {
  const base: Partial<NativeAddon> = {
    SIGRTMIN: 34,
    SIGRTMAX: 64,
    CLONE_NEWPID: 0x20000000,
    CLONE_NEWNS: 0x00020000,
    CLONE_NEWUSER: 0x10000000,
    installSignalHandlers: () => [],
    writeWithSigttouBlocked: (fd, text) => {
      writeSync(fd, text);
    },
    ids: () => [process.pid, process.ppid, process.pid, process.pid],
  };
  return { ...base, ...overrides } as NativeAddon;
}

/** The error the addon throws for a failed system call (native/errors.cc errno_error). */
function errnoError(code: string, errno: number, syscall: string, extra: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(`${code}: ${syscall}`), { code, errno, syscall, ...extra });
}

const request: SpawnRequest = { file: '/bin/true', args: ['/bin/true'], env: [], setsid: false, inheritFds: [] };

describe('LinuxKernel signal handlers', () => {
  it('refuses to start when a signal cannot be caught, naming it', () => {
    const addon = fakeAddon({ installSignalHandlers: (signos) => signos.filter((s) => s === 15 || s === 10) });
    expect(() => new LinuxKernel(addon, { signals: ['SIGTERM', 'SIGUSR1', 'SIGHUP'] })).toThrow(
      /cannot catch SIGUSR1, SIGTERM \(sigaction refused\)|cannot catch SIGTERM, SIGUSR1 \(sigaction refused\)/,
    );
  });

  it("accepts that glibc's reserved signals (32 and 33) cannot be caught, and nothing else", () => {
    const asked: number[][] = [];
    const addon = fakeAddon({
      installSignalHandlers: (signos) => {
        asked.push(signos);
        return signos.filter((s) => s === 32 || s === 33);
      },
    });
    expect(() => new LinuxKernel(addon, { signals: ['SIGTERM', signalName(32), signalName(33)] })).not.toThrow();
    expect(asked).toEqual([[15, 32, 33]]);
    // 34 is SIGRTMIN for this addon: an ordinary real-time signal, which must be caught.
    const strict = fakeAddon({ installSignalHandlers: (signos) => signos.filter((s) => s === 34) });
    expect(() => new LinuxKernel(strict, { signals: ['SIGRTMIN'] })).toThrow(/cannot catch SIGRTMIN/);
  });
});

describe('LinuxKernel errors', () => {
  it('turns an errno error from the addon into a KernelError with its syscall and pid', () => {
    const addon = fakeAddon({
      kill: () => {
        throw errnoError('ESRCH', 3, 'kill');
      },
    });
    const error = captureError(() => new LinuxKernel(addon, { signals: [] }).kill(4242, 'SIGTERM'));
    expect(error).toBeInstanceOf(KernelError);
    expect(error).toMatchObject({ code: 'ESRCH', syscall: 'kill', pid: 4242 });
  });

  it('rethrows what is not an errno error (a TypeError from the addon is a bug, not EINVAL)', () => {
    const bug = new TypeError('Usage: kill(target: number, signo: number)');
    const addon = fakeAddon({
      kill: () => {
        throw bug;
      },
      spawn: () => {
        throw bug;
      },
    });
    const kernel = new LinuxKernel(addon, { signals: [] });
    expect(captureError(() => kernel.kill(4242, 'SIGTERM'))).toBe(bug);
    expect(captureError(() => kernel.spawn(request))).toBe(bug);
  });

  it('rethrows a TypeError from the real addon as it is', () => {
    const kernel = new LinuxKernel(loadAddon(), { signals: [] });
    try {
      // An empty argv: the addon's argument check throws a TypeError before any fork.
      const error = captureError(() => kernel.spawn({ ...request, args: [] }));
      expect(error).toBeInstanceOf(TypeError);
      expect(error).not.toBeInstanceOf(KernelError);
      expect((error as Error).message).toContain('argv must not be empty');
    } finally {
      kernel.close();
      kernel.restoreSignals();
    }
  });

  it('reports a namespace set-up failure as NamespaceRefusedError with the Linux hint for who asked', () => {
    const addon = fakeAddon({
      spawn: () => {
        throw errnoError('ENOSPC', 28, 'clone', { namespaceSetup: true });
      },
    });
    const kernel = new LinuxKernel(addon, { signals: [] });
    const asRoot = captureError(() => kernel.spawn({ ...request, namespaces: { pid: true, mount: true, user: false } }));
    expect(asRoot).toBeInstanceOf(NamespaceRefusedError);
    expect(asRoot).toMatchObject({ code: 'ENOSPC', syscall: 'clone', hint: 'the container or seccomp profile may forbid it' });
    const unprivileged = captureError(() => kernel.spawn({ ...request, namespaces: { pid: true, mount: true, user: true } }));
    expect((unprivileged as NamespaceRefusedError).hint).toMatch(/sysctl user\.max_user_namespaces/);
  });

  it('keeps any other spawn failure a plain KernelError (an exec failure is not a namespace refusal)', () => {
    const addon = fakeAddon({
      spawn: () => {
        throw errnoError('ENOENT', 2, 'execve');
      },
    });
    const error = captureError(() =>
      new LinuxKernel(addon, { signals: [] }).spawn({ ...request, namespaces: { pid: true, mount: true, user: false } }),
    );
    expect(error).toBeInstanceOf(KernelError);
    expect(error).not.toBeInstanceOf(NamespaceRefusedError);
    expect(error).toMatchObject({ code: 'ENOENT', syscall: 'execve' });
  });
});

function captureError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw, got none');
}
