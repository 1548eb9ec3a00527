import { Jieba } from '@node-rs/jieba';
import { dict } from '@node-rs/jieba/dict.js';

/** Splits text into words; concatenating the words gives the text back. */
export interface WordSegmenter {
  cut(text: string): string[];
}

let defaultJieba: Jieba | null = null;

/**
 * Chinese word segmenter backed by jieba-rs (@node-rs/jieba) with its default dictionary.
 * The dictionary (~5 MB, ~150 ms to load) is loaded once per process and shared.
 * @param hmm let jieba's HMM join unknown character runs into words (default true, as jieba's `cut`).
 */
export class JiebaSegmenter implements WordSegmenter {
  private readonly jieba: Jieba;
  constructor(
    private readonly hmm = true,
    customDict?: Uint8Array,
  ) {
    if (customDict) {
      this.jieba = Jieba.withDict(customDict);
    } else {
      defaultJieba ??= Jieba.withDict(dict);
      this.jieba = defaultJieba;
    }
  }

  cut(text: string): string[] {
    return text.length === 0 ? [] : this.jieba.cut(text, this.hmm);
  }
}
