/**
 * The child's environment, shared by the command line (src/main.ts) and the library
 * API (src/index.ts), and the bytes of pidone's arguments and environment.
 */
import { isUtf8 } from 'node:buffer';

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

/** An environment entry's name: what precedes the first '=', or all of it when there is none. */
function nameOf(entry: string): string {
  const eq = entry.indexOf('=');
  return eq < 0 ? entry : entry.slice(0, eq);
}

/**
 * pidone's own environment, minus the launcher's variables, with the Node start-up
 * variables the launcher held aside (NODE_STARTUP_VARS) put back as they were.
 *
 * `env` is the environment as entries (what environ(7) holds, from processEnvironment():
 * every entry in order, duplicate names and entries without '=' included; they pass
 * through as they are), or an object like `process.env`. One pass over the entries and
 * a set lookup for each: the work is linear in the size of the environment (reading
 * `process.env` name by name is not: each read scans environ, getenv(3)).
 */
export function childEnvironment(env: NodeJS.ProcessEnv | readonly string[]): string[] {
  const entries = Array.isArray(env) ? (env as readonly string[]) : entriesOf(env as NodeJS.ProcessEnv);
  const launcher = new Set(LAUNCHER_VARS);
  const startup = new Set(NODE_STARTUP_VARS);
  const saved = new Set<string>();
  for (const entry of entries) {
    if (!entry.startsWith(SAVED_PREFIX)) continue;
    const name = nameOf(entry).slice(SAVED_PREFIX.length);
    if (startup.has(name) && entry.includes('=')) saved.add(name);
  }
  const out: string[] = [];
  for (const entry of entries) {
    const name = nameOf(entry);
    if (launcher.has(name)) {
      // PIDONE_SAVED_<name>=value: the child gets <name>=value, where the launcher put it.
      const original = name.slice(SAVED_PREFIX.length);
      if (name.startsWith(SAVED_PREFIX) && saved.has(original)) out.push(original + entry.slice(name.length));
      continue;
    }
    // The launcher renamed every <name>=value it held aside; what remains under that name
    // (only an entry without '=', which no getenv(3) reads) passes on as it is.
    if (saved.has(name) && entry.includes('=')) continue;
    out.push(entry);
  }
  return out;
}

/**
 * `NAME=value` for each property of an object like `process.env`. On `process.env`
 * itself each property read is a getenv(3), a scan of environ: prefer
 * processEnvironment()'s entries.
 */
function entriesOf(env: NodeJS.ProcessEnv): string[] {
  const out: string[] = [];
  for (const [name, value] of Object.entries(env)) if (value !== undefined) out.push(`${name}=${value}`);
  return out;
}

/*
 * Bytes as strings. argv and environ are bytes (execve(2)), not necessarily UTF-8;
 * Node decodes both as UTF-8 and turns what is not into U+FFFD, losing the bytes (a
 * Latin-1 file name, a binary variable). pidone reads them as bytes from the addon
 * (processArguments(), processEnvironment()) and carries them in strings where each
 * byte that is not part of valid UTF-8 is the lone surrogate U+DC00 + byte (always
 * U+DC80..U+DCFF): Python's "surrogateescape" (PEP 383). Valid UTF-8 reads as usual, so
 * options, names and log lines are what they always were; the addon encodes the
 * strings back (native/bytes.cc), and the child gets exactly the bytes pidone got.
 * Encoded surrogates (ED A0..BF xx) are not valid UTF-8 (RFC 3629), so they are
 * escaped byte by byte too, which keeps the round trip exact for any bytes.
 */

/** The length of the valid UTF-8 sequence at bytes[i], or 0 (RFC 3629 section 4). */
function utf8Sequence(bytes: Uint8Array, i: number): number {
  const c = bytes[i]!;
  if (c < 0x80) return 1;
  let n: number;
  let lo = 0x80;
  let hi = 0xbf;
  if (c >= 0xc2 && c <= 0xdf) n = 2;
  else if (c >= 0xe0 && c <= 0xef) {
    n = 3;
    if (c === 0xe0) lo = 0xa0;
    if (c === 0xed) hi = 0x9f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    n = 4;
    if (c === 0xf0) lo = 0x90;
    if (c === 0xf4) hi = 0x8f;
  } else return 0;
  if (i + n > bytes.length) return 0;
  const second = bytes[i + 1]!;
  if (second < lo || second > hi) return 0;
  for (let k = 2; k < n; k++) {
    const b = bytes[i + k]!;
    if (b < 0x80 || b > 0xbf) return 0;
  }
  return n;
}

/** Bytes -> string, each byte outside valid UTF-8 kept as U+DC00 + byte. */
export function bytesToString(bytes: Uint8Array): string {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (isUtf8(buffer)) return buffer.toString('utf8');
  let out = '';
  let start = 0;
  let i = 0;
  while (i < buffer.length) {
    const n = utf8Sequence(buffer, i);
    if (n > 0) {
      i += n;
      continue;
    }
    out += buffer.toString('utf8', start, i) + String.fromCharCode(0xdc00 + buffer[i]!);
    i += 1;
    start = i;
  }
  return out + buffer.toString('utf8', start, i);
}

/** String -> bytes: the inverse of bytesToString (what the addon does for spawn). */
export function stringToBytes(s: string): Buffer {
  if (!/[\uD800-\uDFFF]/.test(s)) return Buffer.from(s, 'utf8');
  const parts: Buffer[] = [];
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const u = s.charCodeAt(i);
    if (u >= 0xd800 && u <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      i++;
    } else if (u >= 0xdc80 && u <= 0xdcff) {
      parts.push(Buffer.from(s.slice(start, i), 'utf8'), Buffer.of(u - 0xdc00));
      start = i + 1;
    }
  }
  parts.push(Buffer.from(s.slice(start), 'utf8'));
  return Buffer.concat(parts);
}

/** NUL-terminated entries (what the addon's argv() and environ() return) as strings. */
export function decodeEntries(buffer: Buffer): string[] {
  if (buffer.length === 0) return [];
  const body = buffer.subarray(0, buffer[buffer.length - 1] === 0 ? buffer.length - 1 : buffer.length);
  // The common case, all UTF-8, in one decode.
  if (isUtf8(body)) return body.toString('utf8').split('\0');
  const out: string[] = [];
  let start = 0;
  for (;;) {
    const end = body.indexOf(0, start);
    out.push(bytesToString(body.subarray(start, end < 0 ? body.length : end)));
    if (end < 0) return out;
    start = end + 1;
  }
}

/**
 * pidone's arguments as bytes: `argv` (what Node decoded, the tail of process.argv)
 * matched to the tail of the process's own argument vector, `raw` (decoded by
 * decodeEntries: Node's options and the script come first). Each raw argument must
 * decode the way Node decoded it, else (something rewrote them) `argv` stays as it is.
 */
export function exactArguments(
  argv: readonly string[],
  raw: readonly string[],
  nodeArgv: readonly string[] = process.argv,
): string[] {
  const n = argv.length;
  if (raw.length < n || nodeArgv.length < n) return [...argv];
  const rawTail = raw.slice(raw.length - n);
  const nodeTail = nodeArgv.slice(nodeArgv.length - n);
  for (let i = 0; i < n; i++) {
    if (argv[i] !== nodeTail[i] || stringToBytes(rawTail[i]!).toString('utf8') !== argv[i]) return [...argv];
  }
  return rawTail;
}
