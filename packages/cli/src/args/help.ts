import { expectation, type CommandSpec, type OptionSpec } from './spec.js';

const PLACEHOLDER: Record<OptionSpec['type'], string> = {
  string: 'TEXT',
  path: 'PATH',
  number: 'X',
  integer: 'N',
  boolean: '',
  enum: '',
  list: 'A,B,..',
};

function optionLabel(spec: OptionSpec): string {
  const short = spec.short ? `-${spec.short}, ` : '    ';
  if (spec.type === 'boolean') return `${short}--${spec.name}, --no-${spec.name}`;
  const placeholder = spec.placeholder ?? (spec.type === 'enum' ? spec.choices!.join('|') : PLACEHOLDER[spec.type]);
  return `${short}--${spec.name} ${placeholder}`;
}

function wrap(text: string, width: number, indent: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width - indent) {
      lines.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) lines.push(line);
  return lines;
}

/** `retro <command> --help`: usage, description, every option with its type, default and requirement. */
export function commandHelp(command: CommandSpec): string {
  const out: string[] = [`retro ${command.name} — ${command.summary}`, '', `Usage: ${command.usage}`, ''];
  for (const paragraph of command.description.split('\n\n')) out.push(...wrap(paragraph, 90, 0), '');
  out.push('Options:');
  const labels = command.options.map(optionLabel);
  const column = Math.min(38, Math.max(...labels.map((l) => l.length)) + 4);
  command.options.forEach((spec, i) => {
    const notes: string[] = [];
    if (spec.required) notes.push('required');
    if (spec.default !== undefined) notes.push(`default: ${Array.isArray(spec.default) ? spec.default.join(',') : String(spec.default)}`);
    if (spec.type !== 'boolean' && spec.type !== 'string' && spec.type !== 'path' && spec.type !== 'enum') notes.push(expectation(spec));
    const text = `${spec.description}${notes.length ? ` [${notes.join('; ')}]` : ''}`;
    const body = wrap(text, 100, column + 2);
    const label = `  ${labels[i]}`;
    if (label.length + 2 > column + 2) {
      out.push(label);
      body.forEach((line) => out.push(`${' '.repeat(column + 2)}${line}`));
    } else {
      body.forEach((line, j) => out.push(`${j === 0 ? label.padEnd(column + 2) : ' '.repeat(column + 2)}${line}`));
    }
  });
  out.push(`  -h, --help${' '.repeat(Math.max(2, column - 10))}Show this help`);
  out.push(
    '',
    'Configuration: every option can also come from the --config file (JSON or YAML), as camelCase',
    `or kebab-case keys, flat or under a '${command.name}:' section. Flags override the file.`,
  );
  if (command.examples?.length) out.push('', 'Examples:', ...command.examples.map((e) => `  ${e}`));
  return `${out.join('\n')}\n`;
}

/** `retro --help`: the subcommands. */
export function topLevelHelp(commands: readonly CommandSpec[], version: string): string {
  const width = Math.max(...commands.map((c) => c.name.length)) + 4;
  return [
    `retro ${version} — RetroMAE pretraining and embeddings in TypeScript`,
    '',
    'Usage: retro <command> [options]',
    '       retro <command> --help     options of one command',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    '',
    'Global options:',
    '  -h, --help       Show this help',
    '  -v, --version    Print the version',
    '',
    'Exit codes: 0 success, 1 runtime failure, 2 usage error or a step that is not available yet.',
    '',
  ].join('\n');
}
