/**
 * The child's environment, shared by the command line (src/main.ts) and the library
 * API (src/index.ts).
 */

/**
 * Variables the launcher (bin/pidone) and --pid-ns set for pidone alone; the child
 * never sees them.
 */
export const LAUNCHER_VARS: readonly string[] = ['PIDONE_LAUNCHER_FDS', 'PIDONE_SAVED_NODE_OPTIONS', 'PIDONE_PREFORKED'];

/**
 * pidone's own environment, minus the launcher's variables, with the user's
 * NODE_OPTIONS put back (the launcher keeps it away from pidone's own Node).
 */
export function childEnvironment(env: NodeJS.ProcessEnv): string[] {
  const out: string[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || LAUNCHER_VARS.includes(name)) continue;
    if (name === 'NODE_OPTIONS' && env['PIDONE_SAVED_NODE_OPTIONS'] !== undefined) continue;
    out.push(`${name}=${value}`);
  }
  const saved = env['PIDONE_SAVED_NODE_OPTIONS'];
  if (saved !== undefined) out.push(`NODE_OPTIONS=${saved}`);
  return out;
}
