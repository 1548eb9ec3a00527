/**
 * RetroMAE checkpoints in memory (config + safetensors bytes, as a browser holds them): the
 * loaded model reproduces the float64 fixture losses (so c_head.* was loaded), and the bytes
 * written back hold every parameter, c_head.* included, bit-exactly.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { retroMAEFromMemory, retroMAEToMemory } from '../src/index.js';
import { fixtureDir, readF32File, retroMAEFixtureBatch, type Kind } from '../../../test-support/fixtures.js';

for (const kind of ['bert', 'roberta'] as Kind[]) {
  describe(`retroMAEFromMemory / retroMAEToMemory (${kind})`, () => {
    const dir = fixtureDir(kind);
    const checkpoint = { config: readFileSync(`${dir}/config.json`), weights: new Uint8Array(readFileSync(`${dir}/model.safetensors`)), source: kind };

    it('reproduces both fixture losses', () => {
      const expected = readF32File(`${dir}/expected.safetensors`);
      const model = retroMAEFromMemory(checkpoint);
      // Loaded in eval mode, as fromPretrained: dropout off without asking.
      expect(model.training).toBe(false);
      expect(model.encoder.training).toBe(false);
      const out = model.forward(retroMAEFixtureBatch(kind));
      for (const [name, got] of [['encoder.loss', out.encoderLoss], ['decoder.loss', out.decoderLoss!]] as const) {
        const want = expected.get(name)!.data[0];
        expect(Math.abs(got.item() - want) / Math.abs(want), name).toBeLessThan(1e-5);
      }
    });

    it('writes every parameter (c_head.* too) bit-exactly', () => {
      const files = retroMAEToMemory(retroMAEFromMemory(checkpoint));
      const tmp = mkdtempSync(join(tmpdir(), 'retro-retromae-memory-'));
      try {
        writeFileSync(join(tmp, 'model.safetensors'), files['model.safetensors']);
        const saved = readF32File(join(tmp, 'model.safetensors'));
        const original = readF32File(`${dir}/model.safetensors`);
        const cHead = [...original.keys()].filter((name) => name.startsWith('c_head.'));
        expect(cHead.length).toBeGreaterThan(0);
        for (const name of cHead) expect(saved.get(name)?.data, name).toEqual(original.get(name)!.data);
        expect(saved.get(kind === 'bert' ? 'bert.embeddings.word_embeddings.weight' : 'roberta.embeddings.word_embeddings.weight')!.data).toEqual(
          original.get(kind === 'bert' ? 'bert.embeddings.word_embeddings.weight' : 'roberta.embeddings.word_embeddings.weight')!.data,
        );
        expect(JSON.parse(files['config.json']).model_type).toBe(kind);
      } finally {
        rmSync(tmp, { recursive: true, force: true });
      }
    });
  });
}
