import { isUtf8 } from 'node:buffer';

/**
 * Streaming UTF-8 decoder that never loses track of invalid bytes.
 *
 * Why not TextDecoder/StringDecoder: they either throw without telling which record was bad
 * (`fatal`) or silently turn bad bytes into U+FFFD, which is indistinguishable from a real
 * U+FFFD in the text. Like Python's `surrogateescape`, every byte of an invalid sequence becomes
 * the lone surrogate U+DC80+byte (U+DC80..U+DCFF). Valid UTF-8 can never decode to a lone
 * surrogate, so a record is malformed exactly when one of its strings is not well-formed
 * (`String.prototype.isWellFormed`), and the JSON parser downstream carries the marker into the
 * very record that contained the bad bytes.
 */
export class Utf8EscapeDecoder {
  private tail: Buffer | null = null;
  private first = true;
  /** Number of invalid bytes escaped so far. */
  invalidBytes = 0;

  /** @param stripBom drop a U+FEFF at the very start of the stream. */
  constructor(private readonly stripBom = true) {}

  /** Decodes one chunk; an incomplete multi-byte sequence at its end is kept for the next call. */
  write(chunk: Uint8Array): string {
    let buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let head = '';
    if (this.tail) {
      // Only the sequence split across the chunks is joined (at most 3 continuation bytes can
      // finish it), not the whole chunk: after them the decoding of the joined bytes is at a
      // sequence boundary, as any byte left over is invalid on its own either way.
      let k = 0;
      while (k < 3 && k < buf.length && (buf[k]! & 0xc0) === 0x80) k++;
      const joined = Buffer.concat([this.tail, buf.subarray(0, k)]);
      this.tail = null;
      buf = buf.subarray(k);
      if (buf.length === 0) return this.write(joined);
      head = this.decode(joined);
    }
    const cut = completeLength(buf);
    if (cut < buf.length) this.tail = Buffer.from(buf.subarray(cut));
    return this.bomless(head + this.decode(buf.subarray(0, cut)));
  }

  /** Flushes: leftover bytes of an unfinished sequence are invalid and get escaped. */
  end(): string {
    const rest = this.tail;
    this.tail = null;
    return rest ? this.bomless(this.decode(rest)) : '';
  }

  private bomless(s: string): string {
    if (this.first && s.length > 0) {
      this.first = false;
      if (this.stripBom && s.charCodeAt(0) === 0xfeff) return s.slice(1);
    }
    return s;
  }

  private decode(bytes: Buffer): string {
    if (bytes.length === 0) return '';
    if (isUtf8(bytes)) return bytes.toString('utf8');
    const { text, invalid } = decodeWithEscapes(bytes);
    this.invalidBytes += invalid;
    return text;
  }
}

/** Length of the prefix of `buf` that ends on a sequence boundary (at most 3 trailing bytes held back). */
function completeLength(buf: Uint8Array): number {
  const n = buf.length;
  for (let i = n - 1; i >= 0 && i >= n - 3; i--) {
    const b = buf[i];
    if ((b & 0xc0) === 0x80) continue; // continuation byte: keep looking for the lead
    if (b >= 0xc0) {
      const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2;
      return n - i < need ? i : n;
    }
    return n;
  }
  return n;
}

/** Slow path for a chunk that is known to contain invalid UTF-8 (RFC 3629 well-formed table). */
export function decodeWithEscapes(bytes: Uint8Array): { text: string; invalid: number } {
  const units: number[] = [];
  let out = '';
  let invalid = 0;
  const n = bytes.length;
  let i = 0;
  const flush = () => {
    for (let k = 0; k < units.length; k += 8192) out += String.fromCharCode(...units.slice(k, k + 8192));
    units.length = 0;
  };
  while (i < n) {
    const b = bytes[i];
    let cp = -1;
    let len = 1;
    if (b < 0x80) {
      cp = b;
    } else if (b >= 0xc2 && b <= 0xdf) {
      if (i + 1 < n && isCont(bytes[i + 1])) {
        cp = ((b & 0x1f) << 6) | (bytes[i + 1] & 0x3f);
        len = 2;
      }
    } else if (b >= 0xe0 && b <= 0xef) {
      const lo = b === 0xe0 ? 0xa0 : 0x80;
      const hi = b === 0xed ? 0x9f : 0xbf; // ED A0..BF would encode a surrogate
      if (i + 2 < n && bytes[i + 1] >= lo && bytes[i + 1] <= hi && isCont(bytes[i + 2])) {
        cp = ((b & 0x0f) << 12) | ((bytes[i + 1] & 0x3f) << 6) | (bytes[i + 2] & 0x3f);
        len = 3;
      }
    } else if (b >= 0xf0 && b <= 0xf4) {
      const lo = b === 0xf0 ? 0x90 : 0x80;
      const hi = b === 0xf4 ? 0x8f : 0xbf;
      if (i + 3 < n && bytes[i + 1] >= lo && bytes[i + 1] <= hi && isCont(bytes[i + 2]) && isCont(bytes[i + 3])) {
        cp = ((b & 0x07) << 18) | ((bytes[i + 1] & 0x3f) << 12) | ((bytes[i + 2] & 0x3f) << 6) | (bytes[i + 3] & 0x3f);
        len = 4;
      }
    }
    if (cp < 0) {
      units.push(0xdc00 + b);
      invalid++;
    } else if (cp >= 0x10000) {
      const v = cp - 0x10000;
      units.push(0xd800 + (v >> 10), 0xdc00 + (v & 0x3ff));
    } else {
      units.push(cp);
    }
    i += len;
    if (units.length >= 65536) flush();
  }
  flush();
  return { text: out, invalid };
}

function isCont(b: number): boolean {
  return (b & 0xc0) === 0x80;
}

/**
 * Describes the first ill-formed spot in `s`, or null when `s` is well-formed.
 * U+DC80..U+DCFF come from {@link Utf8EscapeDecoder} (an invalid input byte); any other lone
 * surrogate came from a `\uXXXX` escape in the JSON text.
 */
export function describeIllFormed(s: string): string | null {
  if (isWellFormed(s)) return null;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
      if (d >= 0xdc00 && d <= 0xdfff) {
        i++;
        continue;
      }
      return `lone surrogate U+${c.toString(16).toUpperCase()} at char ${i}`;
    }
    if (c >= 0xdc00 && c <= 0xdfff) {
      if (c >= 0xdc80 && c <= 0xdcff) {
        return `invalid UTF-8 byte 0x${(c - 0xdc00).toString(16).toUpperCase().padStart(2, '0')} at char ${i}`;
      }
      return `lone surrogate U+${c.toString(16).toUpperCase()} at char ${i}`;
    }
  }
  return 'ill-formed UTF-16';
}

type WellFormedFn = (this: string) => boolean;
const nativeIsWellFormed = (String.prototype as unknown as { isWellFormed?: WellFormedFn }).isWellFormed;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** True when `s` has no lone surrogate (native `String.prototype.isWellFormed` on Node >= 20). */
export function isWellFormed(s: string): boolean {
  return nativeIsWellFormed ? nativeIsWellFormed.call(s) : !LONE_SURROGATE.test(s);
}
