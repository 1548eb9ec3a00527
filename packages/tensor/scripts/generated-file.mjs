// Shared by the wasm build scripts: write a generated source file, or with --check fail when the
// committed copy differs from what the sources generate now.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export function writeOrCheck(script, outFile, text, args, summary) {
  if (args.includes('--check')) {
    let current = '';
    try {
      current = readFileSync(outFile, 'utf8');
    } catch {}
    if (current !== text) {
      console.error(`${script}: ${outFile} is stale; run node packages/tensor/scripts/${script}.mjs`);
      process.exit(1);
    }
    console.log(`${script}: ${outFile.split('/').pop()} is up to date`);
    return;
  }
  mkdirSync(dirname(outFile), { recursive: true });
  writeFileSync(outFile, text);
  console.log(`${script}: wrote ${outFile} (${summary})`);
}
