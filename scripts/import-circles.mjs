#!/usr/bin/env node
// Fails when a package's source files import each other in a circle (issue #13): a reader should
// follow a package downward, and a circle forces workarounds such as private copies of helpers.
// Type-only imports count too: they make two modules understandable only together.
// Usage: node scripts/import-circles.mjs [package ...]   (default: every package under packages/)
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const names = process.argv.slice(2);
const packages = names.length > 0 ? names : fs.readdirSync(path.join(root, 'packages')).sort();

function sourceFiles(dir, out = []) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) sourceFiles(full, out);
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(full);
  }
  return out;
}

/** The package-local files `file` imports or re-exports (relative specifiers only). */
function localImports(file) {
  const text = fs.readFileSync(file, 'utf8');
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false);
  const targets = [];
  for (const statement of source.statements) {
    if (!ts.isImportDeclaration(statement) && !ts.isExportDeclaration(statement)) continue;
    const specifier = statement.moduleSpecifier;
    if (!specifier || !ts.isStringLiteral(specifier) || !specifier.text.startsWith('.')) continue;
    if (/\.(json|wasm|css)$/.test(specifier.text)) continue; // data, not modules that import back
    const base = path.resolve(path.dirname(file), specifier.text).replace(/\.js$/, '');
    const target = [`${base}.ts`, path.join(base, 'index.ts')].find((candidate) => fs.existsSync(candidate));
    if (!target) throw new Error(`${path.relative(root, file)}: cannot resolve '${specifier.text}'`);
    targets.push(target);
  }
  return targets;
}

/** Strongly connected components of more than one file (Tarjan), i.e. the import circles. */
function circles(graph) {
  let counter = 0;
  const index = new Map();
  const low = new Map();
  const stack = [];
  const onStack = new Set();
  const found = [];
  const visit = (file) => {
    index.set(file, counter);
    low.set(file, counter);
    counter += 1;
    stack.push(file);
    onStack.add(file);
    for (const next of graph.get(file)) {
      if (!index.has(next)) {
        visit(next);
        low.set(file, Math.min(low.get(file), low.get(next)));
      } else if (onStack.has(next)) {
        low.set(file, Math.min(low.get(file), index.get(next)));
      }
    }
    if (low.get(file) !== index.get(file)) return;
    const component = [];
    let member;
    do {
      member = stack.pop();
      onStack.delete(member);
      component.push(member);
    } while (member !== file);
    if (component.length > 1 || graph.get(file).includes(file)) found.push(component);
  };
  for (const file of graph.keys()) if (!index.has(file)) visit(file);
  return found;
}

let failed = false;
for (const name of packages) {
  const src = path.join(root, 'packages', name, 'src');
  if (!fs.existsSync(src)) continue;
  const graph = new Map(sourceFiles(src).map((file) => [file, localImports(file)]));
  for (const component of circles(graph)) {
    failed = true;
    const files = component.map((file) => path.relative(root, file)).sort();
    console.error(`import circle in @retro/${name} (${files.length} files): ${files.join(', ')}`);
  }
}
if (failed) process.exit(1);
console.log(`import circles: none in ${packages.join(', ')}`);
