/**
 * The child's environment, shared by the command line (src/main.ts) and the library
 * API (src/index.ts).
 */

/**
 * Variables that configure a Node program at start-up. They are meant for the user's
 * program, not for the init, and on pidone's own Node they do harm: NODE_OPTIONS can
 * preload code or open the inspector; NODE_EXTRA_CA_CERTS makes Node 20 read and parse
 * a certificate bundle before the first line of pidone runs (about 35 ms for Debian's
 * ca-certificates.crt, docs/performance.md) and prints a warning to pidone's stderr
 * when the file is missing; NODE_V8_COVERAGE makes pidone write coverage files;
 * NODE_CHANNEL_FD makes pidone's Node take over an IPC channel meant for a Node child.
 * The launcher (bin/pidone, which lists the same names) moves each one present to
 * PIDONE_SAVED_<name> before Node starts; the child gets it back unchanged.
 */
export const NODE_STARTUP_VARS: readonly string[] = [
  'NODE_OPTIONS',
  'NODE_EXTRA_CA_CERTS',
  'NODE_V8_COVERAGE',
  'NODE_CHANNEL_FD',
  'NODE_CHANNEL_SERIALIZATION_MODE',
];

const SAVED_PREFIX = 'PIDONE_SAVED_';

/**
 * Variables the launcher (bin/pidone) and --pid-ns set for pidone alone; the child
 * never sees them.
 */
export const LAUNCHER_VARS: readonly string[] = [
  'PIDONE_LAUNCHER_FDS',
  'PIDONE_LAUNCHER',
  'PIDONE_PREFORKED',
  ...NODE_STARTUP_VARS.map((name) => SAVED_PREFIX + name),
];

/**
 * pidone's own environment, minus the launcher's variables, with the Node start-up
 * variables the launcher held aside (NODE_STARTUP_VARS) put back as they were.
 */
export function childEnvironment(env: NodeJS.ProcessEnv): string[] {
  const out: string[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || LAUNCHER_VARS.includes(name)) continue;
    if (NODE_STARTUP_VARS.includes(name) && env[SAVED_PREFIX + name] !== undefined) continue;
    out.push(`${name}=${value}`);
  }
  for (const name of NODE_STARTUP_VARS) {
    const saved = env[SAVED_PREFIX + name];
    if (saved !== undefined) out.push(`${name}=${saved}`);
  }
  return out;
}
