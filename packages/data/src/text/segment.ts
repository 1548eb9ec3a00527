import { createRequire } from 'node:module';
import type { Jieba as JiebaClass } from '@node-rs/jieba';

type JiebaModule = typeof import('@node-rs/jieba');

/**
 * jieba-rs and its dictionary, loaded by the first segmenter, not at import. Why: together they
 * add ~30 MB of RSS and ~0.3 s to every process that imports @retro/data, and most never segment
 * (training, embedding, the main thread of a `prepare` whose workers segment).
 */
let jiebaModule: { Jieba: JiebaModule['Jieba']; dict: Uint8Array } | null = null;
function loadJieba(): NonNullable<typeof jiebaModule> {
  if (!jiebaModule) {
    // ESM (and tsx, also in eval'd workers, where __filename is '[worker eval]'): import.meta.url;
    // the CJS build has an empty import.meta and a real __filename.
    const here = (import.meta as { url?: string }).url ?? __filename;
    const load = createRequire(here);
    const { Jieba } = load('@node-rs/jieba') as JiebaModule;
    const { dict } = load('@node-rs/jieba/dict.js') as { dict: Uint8Array };
    jiebaModule = { Jieba, dict };
  }
  return jiebaModule;
}

/** Splits text into words; concatenating the words gives the text back. */
export interface WordSegmenter {
  cut(text: string): string[];
}

let defaultJieba: JiebaClass | null = null;

/**
 * Chinese word segmenter backed by jieba-rs (@node-rs/jieba) with its default dictionary.
 * The dictionary (~5 MB, ~150 ms to load) is loaded once per process and shared.
 * @param hmm let jieba's HMM join unknown character runs into words (default true, as jieba's `cut`).
 */
export class JiebaSegmenter implements WordSegmenter {
  private readonly jieba: JiebaClass;
  constructor(
    private readonly hmm = true,
    customDict?: Uint8Array,
  ) {
    const { Jieba, dict } = loadJieba();
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
