import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import packageJson from '../package.json';
import { loadConfigFile } from './args/config-file.js';
import { commandHelp, topLevelHelp } from './args/help.js';
import { mergeOptions, parseArgv, validateConfig } from './args/parse.js';
import { suggest, type CommandSpec, type ParsedOptions } from './args/spec.js';
import { embedCommand, type EmbedOptions } from './commands/embed.js';
import { evalCommand, selectEvalTasks, type EvalOptions } from './commands/eval.js';
import { exportCommand, type ExportOptions } from './commands/export.js';
import { tokenizerCommand, type TokenizerOptions } from './commands/tokenizer.js';
import { discoverTasks, type TaskEntry, type TaskResult } from '@retro/eval';
import { evalOutputTarget, writeEvalOutput } from './io/eval-output.js';
import { progressPrinter } from './io/progress.js';
import { finetuneCommand, type FinetuneCliOptions } from './commands/finetune.js';
import { mineCommand, parseRange, type MineCliOptions } from './commands/mine.js';
import { prepareCommand, type PrepareOptions } from './commands/prepare.js';
import { pretrainCommand, trainSettings, type PretrainOptions } from './commands/pretrain.js';
import { EXIT, UsageError } from './errors.js';
import { createOutputDirectory, guardOutput } from './io/output-guard.js';
import { countTexts, streamTexts } from './io/texts.js';
import { idsPathFor, VectorWriter } from './io/vectors.js';
import { reportPrepare } from './pipelines/prepare-report.js';
import { defaultWiring, type Wiring } from './wiring.js';

export const VERSION: string = packageJson.version;
export const COMMANDS: readonly CommandSpec[] = [prepareCommand, pretrainCommand, finetuneCommand, mineCommand, embedCommand, evalCommand, exportCommand, tokenizerCommand];

export interface CliIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown; isTTY?: boolean };
  /** Where `--input -` reads from (default process.stdin). */
  stdin?: import('node:stream').Readable;
  wiring: Wiring;
}

type Kind = 'file' | 'directory' | 'any';

/** Score fields that are counts, not metrics (kept in the JSON, left out of the printed line). */
const COUNT_FIELDS: ReadonlySet<string> = new Set(['pairs', 'queries', 'skipped', 'corpus']);

/** An output file's folder must exist: a clear error instead of ENOENT after all the work. */
function requireParentFolder(option: string, path: string, command: string): void {
  const parent = dirname(resolve(path));
  if (!existsSync(parent) || !statSync(parent).isDirectory()) throw new UsageError(`option --${option}: folder '${parent}' does not exist (create it first)`, command);
}

/** Fails with a usage error naming the option when a path it gives is missing or of the wrong kind. */
function requirePath(option: string, path: string | undefined, kind: Kind, command: string): void {
  if (path === undefined) return;
  if (!existsSync(path)) throw new UsageError(`option --${option}: ${kind === 'any' ? 'path' : kind} '${path}' does not exist`, command);
  const isDir = statSync(path).isDirectory();
  if (kind === 'file' && isDir) throw new UsageError(`option --${option} expects a file, found directory '${path}'`, command);
  if (kind === 'directory' && !isDir) throw new UsageError(`option --${option} expects a directory, found file '${path}'`, command);
}

/** A folder `retro pretrain` wrote before: the trainer decides there (--resume / --overwrite). */
function isRunFolder(dir: string): boolean {
  return readdirSync(dir).some((name) => /^checkpoint-\d+/.test(name) || name === 'metrics.jsonl' || name === 'latest');
}

/**
 * Switches the tensor backend. `--backend gpujs` means a GPU: unless RETRO_GPUJS_MODE asks for
 * another mode on purpose (gpu = the GL modes, cpu or webasm for debugging), it is gpu.js's
 * `webgpu` mode through Node's `webgpu` package (dawn.node), and a machine where that cannot start
 * (no package, glibc < 2.38, no Vulkan driver) fails here, loudly, instead of running elsewhere.
 */
async function selectBackend(name: string | undefined): Promise<void> {
  if (!name) return;
  const { setBackendAsync } = await import('@retro/tensor');
  const askedMode = process.env.RETRO_GPUJS_MODE;
  if (name === 'gpujs' && !askedMode) process.env.RETRO_GPUJS_MODE = 'webgpu';
  try {
    await setBackendAsync(name);
  } catch (error) {
    throw new Error(
      `option --backend ${name}: ${(error as Error).message}` +
        (name === 'gpujs' && !askedMode
          ? '; RETRO_GPUJS_MODE=gpu picks the GL modes instead (a display and the gl package), cpu or webasm runs the gpu.js kernels without a GPU, or use --backend cpu'
          : ''),
    );
  } finally {
    if (askedMode === undefined) delete process.env.RETRO_GPUJS_MODE;
  }
}

async function runCommand(command: CommandSpec, options: ParsedOptions, io: CliIo): Promise<number> {
  switch (command.name) {
    case 'prepare': {
      const o = options as unknown as PrepareOptions;
      for (const input of o.input) requirePath('input', input, 'any', command.name);
      requirePath('tokenizer', o.tokenizer, 'any', command.name);
      guardOutput({
        command: command.name,
        output: { option: 'output', path: o.output, kind: 'directory' },
        inputs: [...o.input.map((path) => ({ option: 'input', path })), { option: 'tokenizer', path: o.tokenizer }],
        overwrite: o.overwrite,
        continues: { test: (dir) => existsSync(join(dir, 'manifest.json')), what: 'a shard folder (no manifest.json)' },
      });
      createOutputDirectory('output', o.output, command.name);
      const summary = await io.wiring.prepare(o);
      return summary === undefined ? EXIT.ok : reportPrepare(summary, io);
    }
    case 'pretrain': {
      const o = options as unknown as PretrainOptions;
      requirePath('data', o.data, 'directory', command.name);
      requirePath('tokenizer', o.tokenizer, 'any', command.name);
      requirePath('model-config', o.modelConfig, 'file', command.name);
      requirePath('init-from', o.initFrom, 'directory', command.name);
      guardOutput({
        command: command.name,
        output: { option: 'output', path: o.output, kind: 'directory' },
        inputs: [
          { option: 'data', path: o.data },
          { option: 'tokenizer', path: o.tokenizer },
          { option: 'model-config', path: o.modelConfig },
          { option: 'init-from', path: o.initFrom },
        ],
        overwrite: o.overwrite,
        continues: { test: isRunFolder, what: 'a run folder (checkpoint-*, metrics.jsonl)' },
      });
      if (o.hiddenSize % o.numHeads !== 0) {
        throw new UsageError(`option --num-heads (${o.numHeads}) must divide --hidden-size (${o.hiddenSize})`, command.name);
      }
      let settings: ReturnType<typeof trainSettings>;
      try {
        settings = trainSettings(o);
      } catch (error) {
        throw new UsageError((error as Error).message, command.name);
      }
      await selectBackend(o.backend);
      createOutputDirectory('output', o.output, command.name);
      await io.wiring.pretrain(o, settings);
      return EXIT.ok;
    }
    case 'finetune': {
      const o = options as unknown as FinetuneCliOptions;
      requirePath('model', o.model, 'directory', command.name);
      requirePath('triples', o.triples, 'file', command.name);
      requirePath('pairs', o.pairs, 'file', command.name);
      for (const file of o.titles ?? []) requirePath('titles', file, 'file', command.name);
      requirePath('dev', o.dev, 'file', command.name);
      requirePath('tokenizer', o.tokenizer, 'directory', command.name);
      const sources = (['triples', 'pairs', 'titles'] as const).filter((k) => o[k] !== undefined && (k !== 'titles' || o.titles!.length > 0));
      if (sources.length !== 1) {
        throw new UsageError(`give exactly one of --triples, --pairs, --titles (found ${sources.length ? sources.map((k) => `--${k}`).join(', ') : 'none'})`, command.name);
      }
      if (o.group > 1 && !o.triples) throw new UsageError(`option --group ${o.group} needs --triples (listed hard negatives); --${sources[0]} has none`, command.name);
      const warmup = o.warmupSteps ?? Math.round(o.warmupRatio * o.totalSteps);
      if (warmup > o.totalSteps) throw new UsageError(`--warmup-steps (${warmup}) exceeds --total-steps (${o.totalSteps})`, command.name);
      if (o.stopAtStep !== undefined && o.stopAtStep > o.totalSteps) throw new UsageError(`--stop-at-step (${o.stopAtStep}) exceeds --total-steps (${o.totalSteps})`, command.name);
      guardOutput({
        command: command.name,
        output: { option: 'output', path: o.output, kind: 'directory' },
        inputs: [
          { option: 'model', path: o.model },
          { option: 'triples', path: o.triples },
          { option: 'pairs', path: o.pairs },
          ...(o.titles ?? []).map((path) => ({ option: 'titles', path })),
          { option: 'dev', path: o.dev },
          { option: 'tokenizer', path: o.tokenizer },
        ],
        overwrite: o.overwrite,
        continues: { test: isRunFolder, what: 'a run folder (checkpoint-*, metrics.jsonl)' },
      });
      await selectBackend(o.backend);
      createOutputDirectory('output', o.output, command.name);
      await io.wiring.finetune(o);
      return EXIT.ok;
    }
    case 'mine': {
      const o = options as unknown as MineCliOptions;
      requirePath('input', o.input, 'file', command.name);
      requirePath('model', o.model, 'directory', command.name);
      requirePath('pool', o.pool, 'file', command.name);
      if ((o.model === undefined) === !o.bm25) throw new UsageError('give exactly one of --model DIR and --bm25', command.name);
      try {
        parseRange(o.range);
      } catch (error) {
        throw new UsageError((error as Error).message, command.name);
      }
      guardOutput({
        command: command.name,
        output: { option: 'output', path: o.output, kind: 'file' },
        inputs: [
          { option: 'input', path: o.input },
          { option: 'pool', path: o.pool },
          { option: 'model', path: o.model },
        ],
        overwrite: o.overwrite,
      });
      await selectBackend(o.backend);
      const summary = await io.wiring.mine(o);
      io.stderr.write(
        `retro mine: wrote ${summary.queries} records to ${o.output} (pool ${summary.poolSize} texts, ranks ${o.range}${summary.toppedUp ? `; ${summary.toppedUp} queries topped up with random pool texts` : ''})\n`,
      );
      return EXIT.ok;
    }
    case 'embed': {
      const o = options as unknown as EmbedOptions;
      requirePath('model', o.model, 'directory', command.name);
      if (o.input !== '-') requirePath('input', o.input, 'file', command.name);
      const ext = extname(o.output).toLowerCase();
      const format = o.format ?? (ext === '.npy' ? 'npy' : ext === '.jsonl' || ext === '.json' ? 'jsonl' : undefined);
      if (!format) throw new UsageError(`option --output: cannot tell the format from '${o.output}' (expected .jsonl or .npy); pass --format jsonl|npy`, command.name);
      requireParentFolder('output', o.output, command.name);
      const inputs = [
        { option: 'model', path: o.model },
        { option: 'input', path: o.input === '-' ? undefined : o.input },
      ];
      guardOutput({ command: command.name, output: { option: 'output', path: o.output, kind: 'file' }, inputs, overwrite: o.overwrite });
      if (format === 'npy') guardOutput({ command: command.name, output: { option: 'output', path: idsPathFor(o.output), kind: 'file' }, inputs, overwrite: o.overwrite });
      await selectBackend(o.backend);
      const total = o.input === '-' ? undefined : await countTexts(o.input);
      const progress = progressPrinter(io, 'retro embed');
      const writer = new VectorWriter(o.output, format);
      let dim = 0;
      try {
        // Groups of several batches: the encoder sorts each group by length, memory stays bounded.
        for await (const group of streamTexts(o.input, { textField: o.textField, format: o.inputFormat, groupSize: Math.max(256, o.batchSize * 8), stdin: io.stdin })) {
          const out = await io.wiring.embed(group.map((t) => t.text), o);
          dim = out.dim;
          writer.write(group.map((t) => t.id), out.vectors, out.dim);
          progress({ task: o.input === '-' ? 'stdin' : basename(o.input), done: writer.count, total });
        }
      } catch (error) {
        writer.abort();
        throw error;
      }
      const written = writer.finish();
      io.stderr.write(`retro embed: wrote ${writer.count} vectors of dimension ${dim} to ${written.join(' and ')} (${format})\n`);
      return EXIT.ok;
    }
    case 'tokenizer': {
      const o = options as unknown as TokenizerOptions;
      for (const input of o.input) requirePath('input', input, 'any', command.name);
      guardOutput({ command: command.name, output: { option: 'output', path: o.output, kind: 'directory' }, inputs: o.input.map((path) => ({ option: 'input', path })), overwrite: o.overwrite });
      createOutputDirectory('output', o.output, command.name);
      const summary = await io.wiring.tokenizer(o, (documents) => io.stderr.write(`retro tokenizer: ${documents.toLocaleString('en')} documents read\n`));
      io.stderr.write(`retro tokenizer: ${o.type} vocabulary of ${summary.vocabSize} tokens from ${summary.documents} documents (${summary.files} files) written to ${o.output}\n`);
      return EXIT.ok;
    }
    case 'export': {
      const o = options as unknown as ExportOptions;
      requirePath('model', o.model, 'directory', command.name);
      guardOutput({ command: command.name, output: { option: 'output', path: o.output, kind: 'directory' }, inputs: [{ option: 'model', path: o.model }], overwrite: o.overwrite });
      createOutputDirectory('output', o.output, command.name);
      const written = await io.wiring.export(o);
      io.stderr.write(`retro export: wrote ${written.length} files to ${o.output}\n`);
      return EXIT.ok;
    }
    case 'eval': {
      const o = options as unknown as EvalOptions;
      requirePath('model', o.model, 'directory', command.name);
      requirePath('data', o.data, 'directory', command.name);
      const output = o.output ? evalOutputTarget(o.output, command.name, { model: o.model, data: o.data, overwrite: o.overwrite }) : undefined;
      let found: TaskEntry[];
      try {
        found = discoverTasks(o.data, { taskType: o.taskType, split: o.split });
      } catch (error) {
        // A folder that fits no task layout is a wrong --data, said before any model is loaded.
        throw new UsageError(`option --data: ${(error as Error).message.replace(/^discoverTasks: /, '')}`, command.name);
      }
      const tasks = selectEvalTasks(found, o.tasks);
      await selectBackend(o.backend);
      const width = Math.max(...tasks.map((t) => t.name.length)) + 2;
      // One line per task as soon as it is scored: name, type, split, then the metrics (x100).
      const printTask = (t: TaskResult) => {
        const metrics = Object.entries(t.scores).filter(([key, v]) => typeof v === 'number' && !COUNT_FIELDS.has(key));
        io.stdout.write(`${t.task.padEnd(width)}${t.kind.padEnd(11)}${t.split.padEnd(7)}${metrics.map(([k, v]) => `${k} ${(v as number).toFixed(2)}`).join('  ')}\n`);
      };
      const run = await io.wiring.evaluate(o, tasks, progressPrinter(io, 'retro eval'), printTask);
      if (output) {
        const written = await writeEvalOutput(output, run);
        io.stderr.write(`retro eval: wrote ${written.length === 1 ? written[0] : `${written.length} files to ${output.path}`}\n`);
      }
      return EXIT.ok;
    }
    default:
      throw new Error(`runCommand: no handler for '${command.name}'`);
  }
}

/**
 * The `retro` command: returns the exit code (0 ok, 1 runtime failure, 2 usage error or a step
 * that is not available yet). Never calls process.exit, so tests can run it in-process.
 */
export async function main(argv: readonly string[], io: Partial<CliIo> = {}): Promise<number> {
  const out: CliIo = { stdout: io.stdout ?? process.stdout, stderr: io.stderr ?? process.stderr, stdin: io.stdin, wiring: io.wiring ?? defaultWiring };
  const [name, ...rest] = argv;
  if (name === undefined) {
    out.stderr.write(topLevelHelp(COMMANDS, VERSION));
    out.stderr.write('\nretro: missing command\n');
    return EXIT.usage;
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    const topic = name === 'help' ? COMMANDS.find((c) => c.name === rest[0]) : undefined;
    out.stdout.write(topic ? commandHelp(topic) : topLevelHelp(COMMANDS, VERSION));
    return EXIT.ok;
  }
  if (name === '--version' || name === '-v') {
    out.stdout.write(`${VERSION}\n`);
    return EXIT.ok;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    const hint = suggest(name, COMMANDS.map((c) => c.name));
    out.stderr.write(`retro: unknown command '${name}'${hint ? ` (did you mean '${hint}'?)` : ''}; commands: ${COMMANDS.map((c) => c.name).join(', ')}\n`);
    return EXIT.usage;
  }
  try {
    const { values, help } = parseArgv(command, rest);
    if (help) {
      out.stdout.write(commandHelp(command));
      return EXIT.ok;
    }
    const configPath = values.config as string | undefined;
    const fromConfig = configPath ? validateConfig(command, loadConfigFile(configPath, command.name), configPath) : {};
    const options = mergeOptions(command, fromConfig, values);
    return await runCommand(command, options, out);
  } catch (error) {
    if (error instanceof UsageError) {
      out.stderr.write(`retro ${command.name}: ${error.message}\nRun 'retro ${command.name} --help' for the options.\n`);
      return EXIT.usage;
    }
    const message = error instanceof Error ? (process.env.RETRO_DEBUG ? error.stack ?? error.message : error.message) : String(error);
    out.stderr.write(`retro ${command.name}: error: ${message}\n`);
    return EXIT.failure;
  }
}
