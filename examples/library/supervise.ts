/**
 * Your own init entry point, with pidone as a library.
 *
 *   node supervise.js                        # runs the default command below
 *   node supervise.js node server.js         # runs yours
 *
 * The process that calls runInit() is the init: it should do nothing else (runInit
 * takes over every signal and reaps every child of the process), and it ends with
 * process.exit(code).
 */
import { writeSync } from 'node:fs';
import { ConfigError, NativeLoadError, runInit } from 'pidone';

const command = process.argv.slice(2);

try {
  const code = await runInit({
    command: command.length > 0 ? command : ['sh', '-c', 'echo "hello from the child, pid $$"; exit 3'],
    // Every Config field is optional here; these are the CLI's --grace 2s --remaining kill -v.
    graceMs: 2000,
    remaining: 'kill',
    verbosity: 1,
    logFormat: 'json',
  });
  process.exit(code);
} catch (error) {
  // Write with writeSync: the init never touches process.stderr (that would make fd 2
  // non-blocking for the child too).
  if (error instanceof ConfigError || error instanceof NativeLoadError) {
    writeSync(2, `${error.message}\n`);
    process.exit(error instanceof ConfigError ? error.exitCode : 1);
  }
  throw error;
}
