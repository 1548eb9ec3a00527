/**
 * The fine-tuning inputs, read and validated up front so a bad line fails before training starts,
 * naming file:line and the field.
 * - triples: FlagEmbedding's `{"query", "pos": [..], "neg": [..]}` JSONL (InfoNCE);
 * - scored pairs: text2vec's `{"sentence1", "sentence2", "score"}` JSONL (CoSENT, dev sets);
 * - title pairs: a WuDao corpus's `title` -> `content` (unsupervised warm-up).
 */
import { FieldReader, parseJsonl, readJsonl, type JsonlRecord } from '@retro/eval';
import { readDocuments } from '@retro/data';

export interface Triple {
  query: string;
  /** At least one. */
  pos: string[];
  /** May be empty (in-batch negatives only). */
  neg: string[];
}

export interface ScoredPair {
  sentence1: string;
  sentence2: string;
  score: number;
}

function nonEmpty(fields: FieldReader, line: number, field: string, value: string): string {
  if (value.trim() === '') fields.fail(line, field, 'a non-empty string', value);
  return value;
}

/** `{"query": str, "pos": [str, ..] (>= 1), "neg": [str, ..] (optional)}` per line. */
export function readTriples(file: string): Triple[] {
  return triplesOf(readJsonl(file, 'readTriples'), file);
}

/** `readTriples` over JSONL text already in memory (a browser's dropped file); `name` names it in errors. */
export function parseTriples(text: string, name: string): Triple[] {
  return triplesOf(parseJsonl(text, name, 'readTriples'), name);
}

function triplesOf(records: JsonlRecord[], file: string): Triple[] {
  const caller = 'readTriples';
  const fields = new FieldReader(caller, file);
  const out = records.map((rec) => {
    const query = nonEmpty(fields, rec.line, 'query', fields.string(rec, 'query'));
    const pos = fields.stringArray(rec, 'pos');
    if (pos.length === 0) fields.fail(rec.line, 'pos', 'at least one positive', pos);
    pos.forEach((p, i) => nonEmpty(fields, rec.line, `pos[${i}]`, p));
    const neg = rec.value.neg === undefined ? [] : fields.stringArray(rec, 'neg');
    neg.forEach((n, i) => nonEmpty(fields, rec.line, `neg[${i}]`, n));
    return { query, pos: [...pos], neg: [...neg] };
  });
  if (out.length === 0) throw new Error(`${caller}: ${file}: no records`);
  return out;
}

/** `{"sentence1": str, "sentence2": str, "score": number}` per line. */
export function readScoredPairs(file: string): ScoredPair[] {
  return scoredPairsOf(readJsonl(file, 'readScoredPairs'), file);
}

/** `readScoredPairs` over JSONL text already in memory; `name` names it in errors. */
export function parseScoredPairs(text: string, name: string): ScoredPair[] {
  return scoredPairsOf(parseJsonl(text, name, 'readScoredPairs'), name);
}

function scoredPairsOf(records: JsonlRecord[], file: string): ScoredPair[] {
  const caller = 'readScoredPairs';
  const fields = new FieldReader(caller, file);
  const out = records.map((rec) => ({
    sentence1: nonEmpty(fields, rec.line, 'sentence1', fields.string(rec, 'sentence1')),
    sentence2: nonEmpty(fields, rec.line, 'sentence2', fields.string(rec, 'sentence2')),
    score: fields.finiteNumber(rec, 'score'),
  }));
  if (out.length === 0) throw new Error(`${caller}: ${file}: no records`);
  return out;
}

export interface TitlePairOptions {
  /** Keep only records of these WuDao dataTypes (default ['新闻']: news, whose titles are real headlines). Empty = all. */
  dataTypes?: readonly string[];
  /** Stop after this many pairs (default: all). */
  maxPairs?: number;
  /** Titles shorter than this many characters are dropped (category labels such as "水果"). Default 6. */
  minTitleChars?: number;
}

/**
 * title -> content pairs of WuDao records, as triples with no listed negatives (query = title,
 * pos = [content]). Where the content starts with the title (many news records repeat the
 * headline as the first sentence) the repeat is cut, so the pair is not a copy task.
 */
export async function readTitlePairs(files: readonly string[], options: TitlePairOptions = {}): Promise<Triple[]> {
  const dataTypes = new Set(options.dataTypes ?? ['新闻']);
  const minTitle = options.minTitleChars ?? 6;
  const max = options.maxPairs ?? Infinity;
  const out: Triple[] = [];
  const reader = readDocuments(files, { format: 'wudao', onError: 'fail' });
  for await (const doc of reader) {
    if (out.length >= max) break;
    if (dataTypes.size > 0 && !dataTypes.has(doc.dataType ?? '')) continue;
    const title = doc.title?.trim() ?? '';
    if ([...title].length < minTitle) continue;
    let content = doc.text.trim();
    if (content.startsWith(title)) content = content.slice(title.length).replace(/^[\s，。,.:：；;！!？?]+/u, '');
    if (content === '') continue;
    out.push({ query: title, pos: [content], neg: [] });
  }
  if (out.length === 0) {
    throw new Error(`readTitlePairs: no title -> content pairs in ${files.join(', ')} (dataTypes ${[...dataTypes].join(',') || 'any'}, titles >= ${minTitle} characters)`);
  }
  return out;
}
