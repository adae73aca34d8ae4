/**
 * Spawn failures before anything runs: a pipe2(2) that fails part-way through the
 * spawn's set-up must leave no fd behind, and a kernel that refuses the new namespaces
 * of --pid-ns must be reported with what to check, the command never started.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PIDONE, ROOT } from '../helpers/paths.js';
import { describeWithNamespaces } from '../helpers/privilege.js';

/**
 * Run in a Node with a small RLIMIT_NOFILE: for each number of free fds below the
 * limit that is too few for the four pipes of a --pid-ns spawn by a user without
 * privileges (the failure pipe, the user namespace's sync pipe, and the pre-forked
 * child's "go" and "adopt" pipes: eight fds), fill the rest with /dev/null, call the
 * addon's spawn, and print the pipe2 error and the fds open before and after.
 */
const FD_PROBE = `
const { createRequire } = require('node:module');
const { closeSync, openSync, readdirSync } = require('node:fs');
const addon = createRequire(process.argv[1])(process.argv[2]);
const limit = Number(/^Max open files\\s+(\\d+)/m.exec(require('node:fs').readFileSync('/proc/self/limits', 'latin1'))[1]);
const openFds = () => readdirSync('/proc/self/fd').map(Number).sort((a, b) => a - b);
const plan = { candidates: ['/bin/true'], argv: ['true'], envp: [], options: { setsid: false, ttyFd: -1, keepFds: [], envPidIndex: -1, envPidName: '' } };
const results = [];
for (let free = 0; free < 8; free++) {
  const fillers = [];
  // Fill all but free + 1 (the reserve below); readdirSync's own fd is not counted.
  for (;;) {
    const used = openFds().filter((fd) => fd < limit).length - 1;
    if (limit - used <= free + 1) break;
    fillers.push(openSync('/dev/null', 'r'));
  }
  // Listing /proc/self/fd takes an fd: one is held in reserve for it, and given back
  // around each listing.
  let reserve = openSync('/dev/null', 'r');
  closeSync(reserve);
  const before = openFds();
  reserve = openSync('/dev/null', 'r');
  let error = null;
  try {
    addon.spawn(['/bin/true'], ['true'], [], {
      ...plan.options,
      cloneFlags: addon.CLONE_NEWPID | addon.CLONE_NEWNS | addon.CLONE_NEWUSER,
      namespaceChild: plan,
    });
  } catch (e) {
    error = e.code + ' ' + e.syscall;
  }
  closeSync(reserve);
  const after = openFds();
  for (const fd of fillers) closeSync(fd);
  results.push({ free, error, before, after });
}
process.stdout.write(JSON.stringify(results));
`;

describe('spawn set-up failures', () => {
  it('closes every pipe it opened when a later pipe2 fails (EMFILE at each step)', () => {
    const addonPath = join(ROOT, 'build', 'Release', 'pidone.node');
    const r = spawnSync('prlimit', ['--nofile=128:128', process.execPath, '-e', FD_PROBE, join(ROOT, 'package.json'), addonPath], {
      encoding: 'utf8',
    });
    expect(r.error, 'prlimit (util-linux) runs').toBeUndefined();
    expect(r.stderr).toBe('');
    const results = JSON.parse(r.stdout) as Array<{ free: number; error: string | null; before: number[]; after: number[] }>;
    expect(results.map((x) => x.free)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    for (const { free, error, before, after } of results) {
      // Too few fds for the eight ends: some pipe2 fails, and nothing was forked.
      expect(error, `${free} free fds`).toBe('EMFILE pipe2');
      expect(after, `fds open after the failed spawn, with ${free} free`).toEqual(before);
    }
  });
});

describeWithNamespaces('--pid-ns when the kernel refuses the namespaces', () => {
  // The limits on namespaces are per user namespace, and checked in every ancestor
  // (user_namespaces(7), /proc/sys/user): set to 0 or 1 inside a user namespace of the
  // test's own, they refuse a clone(2) there without touching the machine's.
  const cases = [
    {
      who: 'as root: no new PID namespace allowed',
      script: `echo 0 > /proc/sys/user/max_pid_namespaces && exec "$0" --pid-ns -- sh -c 'echo ran'`,
      hint: 'the container or seccomp profile may forbid it',
    },
    {
      who: 'without privileges: no new user namespace allowed',
      // One user namespace more is allowed: the unprivileged one pidone runs in (uid 1000).
      script: `echo 1 > /proc/sys/user/max_user_namespaces && exec unshare --user --map-user=1000 --map-group=1000 "$0" --pid-ns -- sh -c 'echo ran'`,
      hint: 'user namespaces may be disabled (sysctl user.max_user_namespaces, kernel.unprivileged_userns_clone)',
    },
  ];
  for (const { who, script, hint } of cases) {
    it(`${who}: one line naming clone(2) and what to check; the command never runs`, () => {
      const r = spawnSync('unshare', ['--user', '--map-root-user', 'sh', '-c', script, PIDONE], { encoding: 'utf8' });
      expect(r.error).toBeUndefined();
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe(
        `pidone: --pid-ns: the kernel refused a new PID namespace (clone: No space left on device); ${hint}\n`,
      );
      expect(r.status).not.toBe(0);
    });
  }
});
