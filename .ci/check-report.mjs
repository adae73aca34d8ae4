// Reads vitest's JSON reports: prints the closing "N passed, N failed, N skipped" line
// and fails when a test was skipped under CI as root, or when no test ran at all.
import { readFileSync } from 'node:fs';

const skipped = [];
let passed = 0;
let failed = 0;
for (const path of process.argv.slice(2)) {
  const report = JSON.parse(readFileSync(path, 'utf8'));
  for (const file of report.testResults) {
    for (const t of file.assertionResults) {
      if (t.status === 'skipped' || t.status === 'pending' || t.status === 'todo') skipped.push(t.fullName);
    }
  }
  passed += report.numPassedTests;
  failed += report.numFailedTests;
}
console.log(`${passed} passed, ${failed} failed, ${skipped.length} skipped`);
const ciAsRoot = process.env.CI === 'true' && process.getuid?.() === 0;
if (ciAsRoot && skipped.length > 0) {
  console.error(`CI as root must run every test; skipped:\n  ${skipped.join('\n  ')}`);
  process.exit(1);
}
if (passed === 0) {
  console.error('no test ran');
  process.exit(1);
}
process.exit(failed > 0 ? 1 : 0);
