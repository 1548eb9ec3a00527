/**
 * One RetroMAE training step on a real batch made by @retro/data (WordPiece tokenizer, jieba
 * word grouping, whole-word encoder masking) and this package's collator (M over whole words).
 */
import { describe, expect, it } from 'vitest';
import { noGrad } from '@retro/tensor';
import {
  buildWordPieceVocab,
  tokenizerFor,
  WordTokenizer,
  JiebaSegmenter,
  DocumentChunker,
  collateChunks,
  maskBatch,
  specialIdsOf,
  Generator,
} from '@retro/data';
import { RetroMAEForPretraining, collateRetroMAE } from '../src/index.js';

const documents = [
  '北京是中华人民共和国的首都，也是全国的政治中心和文化中心。长城是世界上最伟大的建筑之一。',
  '今天天气很好，我们一起去公园散步吧！公园里有很多人在锻炼身体。',
  '这家酒店的服务非常周到，房间干净整洁，下次还会再来。早餐的种类也很丰富。',
  '人工智能技术发展迅速，深度学习在自然语言处理领域取得了显著的进展。',
];

describe('RetroMAEForPretraining on a real @retro/data batch', () => {
  it('gives finite losses and non-zero gradients for every parameter a batch can reach', async () => {
    const tokenizer = tokenizerFor(await buildWordPieceVocab(documents, { minCharFrequency: 1 }));
    const chunker = new DocumentChunker(new WordTokenizer(tokenizer, new JiebaSegmenter()), { maxSeqLength: 32 });
    const chunks = documents.flatMap((text) => chunker.chunk(text));
    const batch = collateChunks(chunks, { padTokenId: tokenizer.padTokenId });
    const masking = maskBatch(batch, new Generator(7), { ratio: 0.3, maskTokenId: tokenizer.maskTokenId, vocabSize: tokenizer.vocabSize, specialIds: specialIdsOf(tokenizer) });
    // Whole words span several tokens here, so M exercises the grouping.
    expect(batch.wordStarts.reduce((n, x) => n + x, 0)).toBeLessThan(batch.attentionMask.reduce((n, x) => n + x, 0));
    const retromae = collateRetroMAE({ ...batch, ...masking }, { decoderRatio: 0.5, seed: 3 });

    const model = RetroMAEForPretraining.fromConfig(
      { vocabSize: tokenizer.vocabSize, hiddenSize: 32, numHiddenLayers: 2, numAttentionHeads: 4, intermediateSize: 64, maxPositionEmbeddings: 64, padTokenId: tokenizer.padTokenId },
      { seed: 1 },
    );
    model.train();
    const out = model.forward(retromae);
    for (const loss of [out.loss, out.encoderLoss, out.decoderLoss!]) expect(Number.isFinite(loss.item())).toBe(true);
    expect(out.loss.item()).toBeCloseTo(out.encoderLoss.item() + out.decoderLoss!.item(), 5);
    // Untrained: both losses sit near ln(V).
    expect(Math.abs(out.decoderLoss!.item() - Math.log(tokenizer.vocabSize))).toBeLessThan(1);
    out.loss.backward();

    const [B, L] = batch.shape;
    const positionsUsed = L; // H1 uses rows 0..L-1; the encoder and H2 use the same rows.
    for (const [name, parameter] of model.namedParameters()) {
      const grad = parameter.grad;
      expect(grad, `${name} has no gradient`).not.toBeNull();
      const values = grad!.toFloat32Array();
      expect(values.every(Number.isFinite), `${name} has a non-finite gradient`).toBe(true);
      const norm = Math.hypot(...values);
      if (name.endsWith('token_type_embeddings.weight')) {
        // Only type 0 occurs: row 1 must stay exactly 0, row 0 must move.
        const hidden = parameter.shape[1];
        expect(values.slice(hidden).every((v) => v === 0)).toBe(true);
        expect(Math.hypot(...values.slice(0, hidden))).toBeGreaterThan(0);
      } else if (name.endsWith('position_embeddings.weight')) {
        const hidden = parameter.shape[1];
        expect(Math.hypot(...values.slice(0, positionsUsed * hidden))).toBeGreaterThan(0);
        expect(values.slice(positionsUsed * hidden).every((v) => v === 0), 'unused positions get no gradient').toBe(true);
      } else if (/key\.bias$/.test(name)) {
        // Mathematically zero: softmax ignores a per-row constant.
        expect(norm).toBeLessThan(1e-5);
      } else {
        expect(norm, `${name} has an all-zero gradient`).toBeGreaterThan(0);
      }
    }
    noGrad(() => model.zeroGrad());
    expect(B).toBe(chunks.length);
  });
});
