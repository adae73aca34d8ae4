/** Small Node programs the Docker suite runs in its containers (`node -e APP`). */

/** Prints `got SIGNAME` for each signal of the list it receives; exits 0 on SIGTERM. */
export const SIGNAL_APP = `
for (const name of ['SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH', 'SIGALRM', 'SIGCONT']) {
  process.on(name, () => console.log('got ' + name));
}
process.on('SIGTERM', () => { console.log('got SIGTERM'); process.exit(0); });
console.log('ready');
setInterval(() => {}, 1 << 30);
`;

/**
 * A server on 127.0.0.1:8080 that answers "ok" and prints when it accepted and when a
 * stopping signal came (Date.now(): the container and the host share the clock).
 * TERM, INT and QUIT close it and exit 0; USR1 is printed only; USR2 makes it exit 4
 * by itself.
 */
export const SERVER_APP = `
const net = require('node:net');
const server = net.createServer((c) => { console.log('accept ' + Date.now()); c.end('ok\\n'); });
for (const name of ['SIGTERM', 'SIGINT', 'SIGQUIT']) {
  process.on(name, () => { console.log('stop ' + name + ' ' + Date.now()); server.close(); process.exit(0); });
}
process.on('SIGUSR1', () => console.log('got SIGUSR1 ' + Date.now()));
process.on('SIGUSR2', () => { console.log('leaving by itself ' + Date.now()); process.exit(4); });
server.listen(8080, '127.0.0.1', () => console.log('listening'));
`;

/** A loop in the container (bash's /dev/tcp) that connects to SERVER_APP every 100 ms. */
export const PROBE_LOOP = 'while :; do (exec 3<>/dev/tcp/127.0.0.1/8080 && cat <&3) >/dev/null 2>&1; sleep 0.1; done';
