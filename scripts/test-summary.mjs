#!/usr/bin/env node
// Prints vitest's totals as one plain closing line ("N passed, N failed, N skipped") for CI logs.
import { readFileSync } from 'node:fs';

const file = process.argv[2] ?? '.vitest-results.json';
const results = JSON.parse(readFileSync(file, 'utf8'));
const skipped = (results.numPendingTests ?? 0) + (results.numTodoTests ?? 0);
console.log(`tests: ${results.numPassedTests} passed, ${results.numFailedTests} failed, ${skipped} skipped`);
process.exitCode = results.numFailedTests > 0 || !results.success ? 1 : 0;
