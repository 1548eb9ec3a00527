import { open } from 'node:fs/promises';
import { formatFromHead, formatFromName } from './format-of.js';
import type { CorpusFormat } from './types.js';

/**
 * Guesses a file's format: `.jsonl`/`.ndjson` -> jsonl, `.txt` -> text; otherwise by the first
 * non-blank character of the file: `[` -> wudao, `{` -> jsonl when the first line is a complete
 * JSON value (else wudao, so a pretty-printed object such as manifest.json is reported as
 * "not an array" rather than as hundreds of broken lines), anything else -> text.
 */
export async function detectFormat(file: string): Promise<CorpusFormat> {
  const byName = formatFromName(file);
  if (byName) return byName;
  const fh = await open(file, 'r');
  let head: string;
  try {
    const buf = Buffer.alloc(65536);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    head = buf.subarray(0, bytesRead).toString('utf8');
  } finally {
    await fh.close();
  }
  return formatFromHead(file, head);
}

/** Leading bytes of formats a corpus file must not be in, with what to do about each. */
const FOREIGN_SIGNATURES: ReadonlyArray<[bytes: number[], what: string]> = [
  [[0x1f, 0x8b], 'gzip-compressed; decompress it first (gunzip)'],
  [[0x50, 0x4b, 0x03, 0x04], 'a zip archive; extract it first'],
  [[0x42, 0x5a, 0x68], 'bzip2-compressed; decompress it first (bunzip2)'],
  [[0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], 'xz-compressed; decompress it first (unxz)'],
  [[0x28, 0xb5, 0x2f, 0xfd], 'zstd-compressed; decompress it first (unzstd)'],
  [[0xff, 0xfe, 0x00, 0x00], 'UTF-32 (LE byte-order mark); convert it to UTF-8 (iconv -f UTF-32 -t UTF-8)'],
  [[0x00, 0x00, 0xfe, 0xff], 'UTF-32 (BE byte-order mark); convert it to UTF-8 (iconv -f UTF-32 -t UTF-8)'],
  [[0xff, 0xfe], 'UTF-16 (LE byte-order mark); convert it to UTF-8 (iconv -f UTF-16 -t UTF-8)'],
  [[0xfe, 0xff], 'UTF-16 (BE byte-order mark); convert it to UTF-8 (iconv -f UTF-16 -t UTF-8)'],
];

/**
 * Why a file cannot be a UTF-8 corpus, judged from its first 64 KiB (compressed, UTF-16/32, or
 * binary with NUL bytes), or undefined when it may be one. Read before parsing so the user hears
 * "gzip" rather than a JSON syntax error at byte 0.
 */
export async function foreignEncoding(file: string): Promise<string | undefined> {
  const fh = await open(file, 'r');
  let head: Buffer;
  try {
    const buf = Buffer.alloc(65536);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    head = buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
  for (const [bytes, what] of FOREIGN_SIGNATURES) {
    if (head.length >= bytes.length && bytes.every((b, i) => head[i] === b)) return `the file is ${what}`;
  }
  const nul = head.indexOf(0);
  if (nul >= 0) {
    return `the file has a NUL byte at offset ${nul}: it is binary or UTF-16/32 without a byte-order mark, not UTF-8 text`;
  }
  return undefined;
}
