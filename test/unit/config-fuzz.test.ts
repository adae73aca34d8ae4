/**
 * The parser under fire: random flags, values, signal names, durations, unicode and
 * very long arguments. Every command line either parses or is refused with one line
 * naming what was wrong; nothing else may escape (a stack trace from PID 1 is a bug).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigError, OPTIONS, parseArgs } from '../../src/config.js';

const knownFlags = OPTIONS.flatMap((o) => [`--${o.name}`, ...(o.alias ? [`-${o.alias}`] : [])]);

const token = fc.oneof(
  fc.constantFrom(...knownFlags, '--', '-', '--no-subreaper', '--no-setsid', '-vvv', '-sv', '--grace=1s', '--rewrite=TERM:INT'),
  fc.constantFrom('TERM', 'SIGTERM', 'RTMIN+3', 'RTMAX-40', '15', '0', '65', 'TERM:0', 'INT:none', ':', '::', '5s', '1.5m', '0.0001ms', '1e3s', 'json'),
  fc.string({ maxLength: 10 }),
  fc.string({ unit: 'grapheme', maxLength: 10 }),
  fc.string({ unit: 'binary', maxLength: 10 }),
  fc.string({ minLength: 1000, maxLength: 5000 }),
);

describe('parseArgs fuzzed', () => {
  it('shows control characters escaped and long values cut, so a refusal stays one line', () => {
    expect(() => parseArgs(['--grace', 'a\nb', 'x'])).toThrow("--grace: 'a\\x0ab' is not a duration");
    expect(() => parseArgs(['--grace', 'y'.repeat(500), 'x'])).toThrow(/'y{60}\.\.\. \(500 characters\)'/);
  });

  it('parses or refuses with one clear line; nothing else escapes', () => {
    fc.assert(
      fc.property(fc.array(token, { maxLength: 12 }), (argv) => {
        try {
          const r = parseArgs(argv);
          if (r.kind === 'run') {
            expect(r.config.command.length).toBeGreaterThan(0);
            expect(r.config.graceMs).toBeGreaterThanOrEqual(0);
            for (const [from, to] of r.config.remapExit) {
              expect(from).toBeGreaterThanOrEqual(0);
              expect(to).toBeLessThanOrEqual(255);
            }
          }
        } catch (error) {
          expect(error).toBeInstanceOf(ConfigError);
          const message = (error as ConfigError).message;
          expect(message.startsWith('pidone: ')).toBe(true);
          expect(message.includes('\n')).toBe(false);
          expect((error as ConfigError).exitCode).toBe(2);
        }
      }),
      { numRuns: 1500 },
    );
  });
});
