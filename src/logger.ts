/**
 * Logging: pino, to fd 2, never stdout (stdout belongs to the child).
 *
 * The destination writes with fs.writeSync(2) inside try/catch: an EPIPE or EAGAIN on
 * stderr (a closed pipe, a full non-blocking terminal) loses the line and nothing else.
 * A logger that throws would kill PID 1, and with it the container. pidone never
 * touches process.stderr: doing so makes fd 2 non-blocking for the child too.
 */
import { writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Logger as PinoLogger } from 'pino';
import type { LogFormat } from './config.js';

/** A log method, as pino's: fields then message, or a message alone. */
export interface LogFn {
  (fields: object, message?: string): void;
  (message: string): void;
}

/** What pidone logs through: pino's shape, narrowed to what pidone uses. */
export interface Logger {
  readonly level: string;
  isLevelEnabled(level: string): boolean;
  child(bindings: Record<string, unknown>): Logger;
  trace: LogFn;
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  fatal: LogFn;
}

export interface LoggerOptions {
  /** 0 = warn, 1 = info, 2 = debug, 3+ = trace. */
  readonly verbosity: number;
  /** Undefined: json unless fd 2 is a terminal. */
  readonly format?: LogFormat | undefined;
  /** pidone's pid, on every line. */
  readonly pid: number;
  /** Where lines go (tests); default fd 2. */
  readonly write?: (line: string) => void;
  /** A line format of a compat mode's own (src/compat/log-format.ts) instead of pino's. */
  readonly lineFormat?: LineFormat | undefined;
}

/**
 * A compat mode's own log lines. Every call reaches `format`, whatever pidone's level
 * (the tool's levels are not pidone's: tini warns where pidone logs at debug), and
 * `format` returns the text to write ('' for nothing). `level` is what callers see as
 * enabled, so that hot paths build their fields only when the tool would print them.
 */
export interface LineFormat {
  readonly level: LevelName;
  format(level: LevelName, fields: Readonly<Record<string, unknown>>, message: string): string;
}

const LEVELS = ['warn', 'info', 'debug', 'trace'] as const;

/**
 * 0 = warn, 1 = info, 2 = debug, 3+ = trace; below 0 (tini's TINI_VERBOSITY=0) only
 * errors.
 */
export function levelFor(verbosity: number): (typeof LEVELS)[number] | 'error' {
  if (verbosity < 0) return 'error';
  return LEVELS[Math.min(verbosity, LEVELS.length - 1)]!;
}

/** How pidone's own text reaches an fd. */
export type WriteText = (fd: number, text: string) => void;

let writeText: WriteText = (fd, text) => {
  writeSync(fd, text);
};

/**
 * Write pidone's own lines with `write` from now on. The Linux kernel installs one
 * that blocks SIGTTOU around the write(2) (the addon's writeWithSigttouBlocked): once
 * pidone catches SIGTTOU, a plain write to a terminal with `stty tostop`, from the
 * background, raises SIGTTOU, the handler returns, and the kernel restarts the write,
 * which raises SIGTTOU again, forever (n_tty_write(), tty_check_change()).
 */
export function useTerminalSafeWrite(write: WriteText): void {
  writeText = write;
}

/** Write pidone's own text to fd (help, version); swallow every error (EPIPE, EAGAIN, EBADF, EIO). */
export function writeFd(fd: number, text: string): void {
  try {
    writeText(fd, text);
  } catch {
    // Nowhere left to report it.
  }
}

/** Write to fd 2; swallow every error. */
export function writeStderr(text: string): void {
  writeFd(2, text);
}

/** pino's numeric levels. */
const RANK = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 } as const;
export type LevelName = keyof typeof RANK;

/**
 * A logger that loads pino on its first line at an enabled level, not before. At the
 * default level (warn) a run without trouble never loads it: pino costs about a tenth
 * of Node's own start-up, and its heap keeps V8's memory reducer waking the idle init
 * for seconds (docs/performance.md). Calls below the level do nothing, as in pino.
 */
export function createLogger(options: LoggerOptions): Logger {
  if (options.lineFormat) return formattedLogger(options.lineFormat, options.write ?? writeStderr, {});
  let real: PinoLogger | undefined;
  return lazyLogger(() => (real ??= createPino(options)), levelFor(options.verbosity));
}

function lazyLogger(load: () => PinoLogger, level: LevelName): Logger {
  const threshold = RANK[level];
  const method = (name: LevelName): LogFn =>
    RANK[name] >= threshold ? (...args: [object | string, string?]) => (load()[name] as (...a: unknown[]) => void)(...args) : () => {};
  return loggerOf(level, method, (bindings) => {
    let child: PinoLogger | undefined;
    return lazyLogger(() => (child ??= load().child(bindings)), level);
  });
}

/** A Logger at `level` whose calls at each level are `method(level)`. */
function loggerOf(level: LevelName, method: (name: LevelName) => LogFn, child: (bindings: Record<string, unknown>) => Logger): Logger {
  return {
    level,
    isLevelEnabled: (name: string) => (RANK as Record<string, number>)[name]! >= RANK[level],
    child,
    trace: method('trace'),
    debug: method('debug'),
    info: method('info'),
    warn: method('warn'),
    error: method('error'),
    fatal: method('fatal'),
  };
}

function formattedLogger(lineFormat: LineFormat, write: (text: string) => void, bindings: Record<string, unknown>): Logger {
  const method =
    (name: LevelName): LogFn =>
    (first: object | string, message?: string) => {
      const [fields, msg] = typeof first === 'string' ? [{}, first] : [first, message ?? ''];
      const text = lineFormat.format(name, { ...bindings, ...fields }, msg);
      if (text !== '') write(text);
    };
  return loggerOf(lineFormat.level, method, (more) => formattedLogger(lineFormat, write, { ...bindings, ...more }));
}

function createPino(options: LoggerOptions): PinoLogger {
  // pino is CommonJS: require() keeps the first log line synchronous.
  const require = createRequire(import.meta.url);
  const pino = require('pino') as typeof import('pino').default;
  // node:tty is required here, not imported at the top: it loads Node's net and stream
  // modules, about 2 ms of every start-up for a run that logs nothing.
  const { isatty } = require('node:tty') as typeof import('node:tty');
  const format = options.format ?? (isatty(2) ? 'pretty' : 'json');
  const write = options.write ?? writeStderr;
  const destination = { write: format === 'pretty' ? (line: string) => write(prettyLine(line)) : write };
  return pino(
    {
      name: 'pidone',
      level: levelFor(options.verbosity),
      base: { pid: options.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}

const RESERVED = new Set(['level', 'time', 'pid', 'name', 'msg', 'component']);

/**
 * One JSON line -> "12:00:01.234 WARN  [init] reaped orphan child=42 status=0".
 * Hand-written: pino-pretty runs as a worker thread or pulls in a stream stack, both
 * of which are more than an init should carry.
 */
export function prettyLine(line: string): string {
  let event: Record<string, unknown>;
  try {
    event = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const time = typeof event['time'] === 'string' ? event['time'].slice(11, 23) : '';
  const level = String(event['level'] ?? '').toUpperCase().padEnd(5);
  const component = event['component'] ? `[${String(event['component'])}] ` : '';
  const fields = Object.entries(event)
    .filter(([key]) => !RESERVED.has(key))
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join(' ');
  return `${time} ${level} pidone[${String(event['pid'])}] ${component}${String(event['msg'] ?? '')}${fields ? ` ${fields}` : ''}\n`;
}
