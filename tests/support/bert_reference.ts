/**
 * Random BERT weights and an independent plain-TypeScript forward pass, used to
 * check what onnxruntime computes from the generated ONNX file.
 *
 * The forward pass is the textbook BERT encoder (embeddings + LayerNorm, then
 * per layer: multi-head self-attention with an additive -10000 padding mask,
 * residual + LayerNorm, erf-GELU feed-forward, residual + LayerNorm), followed
 * by mean pooling over the tokens and L2 normalization, in float64.
 *
 * @module
 */

import { seededRandom } from "./seeded_random.ts";

/** The shape of a BERT encoder. */
export interface BertShape {
  layers: number;
  hidden: number;
  heads: number;
  intermediate: number;
  vocabSize: number;
  maxPositions: number;
}

/** One encoder layer's weights; matrices are row-major `[in, out]` (x · W). */
export interface BertLayerWeights {
  wq: Float32Array;
  bq: Float32Array;
  wk: Float32Array;
  bk: Float32Array;
  wv: Float32Array;
  bv: Float32Array;
  wo: Float32Array;
  bo: Float32Array;
  ln1g: Float32Array;
  ln1b: Float32Array;
  wi: Float32Array;
  bi: Float32Array;
  wo2: Float32Array;
  bo2: Float32Array;
  ln2g: Float32Array;
  ln2b: Float32Array;
}

/** All weights of the model. */
export interface BertWeights {
  wordEmb: Float32Array;
  posEmb: Float32Array;
  typeEmb: Float32Array;
  embLng: Float32Array;
  embLnb: Float32Array;
  layers: BertLayerWeights[];
}

/** LayerNorm epsilon, as in BERT's config. */
export const LAYER_NORM_EPS = 1e-12;

/** Random weights for `shape`, reproducible from `seed`. */
export function randomBertWeights(shape: BertShape, seed = 1): BertWeights {
  const rnd = seededRandom(seed);
  const u = (n: number, scale: number, offset = 0) => {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = offset + (rnd() * 2 - 1) * scale;
    return a;
  };
  const { hidden: h, intermediate: m } = shape;
  const w = 1 / Math.sqrt(h);
  return {
    wordEmb: u(shape.vocabSize * h, 1),
    posEmb: u(shape.maxPositions * h, 0.5),
    typeEmb: u(2 * h, 0.2),
    embLng: u(h, 0.1, 1),
    embLnb: u(h, 0.1),
    layers: Array.from({ length: shape.layers }, () => ({
      wq: u(h * h, 2 * w),
      bq: u(h, 0.1),
      wk: u(h * h, 2 * w),
      bk: u(h, 0.1),
      wv: u(h * h, w),
      bv: u(h, 0.1),
      wo: u(h * h, w),
      bo: u(h, 0.1),
      ln1g: u(h, 0.1, 1),
      ln1b: u(h, 0.1),
      wi: u(h * m, w),
      bi: u(m, 0.1),
      wo2: u(m * h, 1 / Math.sqrt(m)),
      bo2: u(h, 0.1),
      ln2g: u(h, 0.1, 1),
      ln2b: u(h, 0.1),
    })),
  };
}

type Mat = Float64Array[];

function linear(x: Mat, w: Float32Array, b: Float32Array, inDim: number, outDim: number): Mat {
  return x.map((row) => {
    const out = new Float64Array(outDim);
    for (let j = 0; j < outDim; j++) out[j] = b[j];
    for (let k = 0; k < inDim; k++) {
      const xk = row[k];
      const off = k * outDim;
      for (let j = 0; j < outDim; j++) out[j] += xk * w[off + j];
    }
    return out;
  });
}

function layerNorm(x: Mat, g: Float32Array, b: Float32Array): Mat {
  return x.map((row) => {
    const n = row.length;
    let mean = 0;
    for (const v of row) mean += v;
    mean /= n;
    let variance = 0;
    for (const v of row) variance += (v - mean) ** 2;
    variance /= n;
    const inv = 1 / Math.sqrt(variance + LAYER_NORM_EPS);
    return row.map((v, i) => (v - mean) * inv * g[i] + b[i]);
  });
}

function add(a: Mat, b: Mat): Mat {
  return a.map((row, i) => row.map((v, j) => v + b[i][j]));
}

/** erf to ~1e-13: Maclaurin series near 0, continued fraction of erfc beyond. */
function erf(x: number): number {
  const t = Math.abs(x);
  if (t < 2.5) {
    // Maclaurin series.
    let sum = t;
    let term = t;
    for (let n = 1; n < 60; n++) {
      term *= -t * t / n;
      sum += term / (2 * n + 1);
    }
    return Math.sign(x) * sum * 2 / Math.sqrt(Math.PI);
  }
  // Continued fraction for erfc.
  let f = 0;
  for (let n = 60; n >= 1; n--) f = (n / 2) / (t + f);
  const erfc = Math.exp(-t * t) / Math.sqrt(Math.PI) / (t + f);
  return Math.sign(x) * (1 - erfc);
}

function gelu(x: Mat): Mat {
  return x.map((row) => row.map((v) => 0.5 * v * (1 + erf(v / Math.SQRT2))));
}

function attention(x: Mat, lw: BertLayerWeights, shape: BertShape): Mat {
  const { hidden: h, heads } = shape;
  const hd = h / heads;
  const q = linear(x, lw.wq, lw.bq, h, h);
  const k = linear(x, lw.wk, lw.bk, h, h);
  const v = linear(x, lw.wv, lw.bv, h, h);
  const s = x.length;
  const ctx: Mat = Array.from({ length: s }, () => new Float64Array(h));
  for (let head = 0; head < heads; head++) {
    const o = head * hd;
    for (let i = 0; i < s; i++) {
      const scores = new Float64Array(s);
      let max = -Infinity;
      for (let j = 0; j < s; j++) {
        let dot = 0;
        for (let d = 0; d < hd; d++) dot += q[i][o + d] * k[j][o + d];
        scores[j] = dot / Math.sqrt(hd);
        max = Math.max(max, scores[j]);
      }
      let total = 0;
      for (let j = 0; j < s; j++) total += scores[j] = Math.exp(scores[j] - max);
      for (let j = 0; j < s; j++) {
        const p = scores[j] / total;
        for (let d = 0; d < hd; d++) ctx[i][o + d] += p * v[j][o + d];
      }
    }
  }
  return linear(ctx, lw.wo, lw.bo, h, h);
}

/**
 * The normalized mean-pooled embedding of one unpadded sequence of token ids
 * (special tokens included), computed in float64.
 */
export function referenceEmbedding(w: BertWeights, shape: BertShape, ids: number[]): Float64Array {
  const h = shape.hidden;
  let x: Mat = ids.map((id, p) => {
    const row = new Float64Array(h);
    for (let j = 0; j < h; j++) {
      row[j] = w.wordEmb[id * h + j] + w.posEmb[p * h + j] + w.typeEmb[j];
    }
    return row;
  });
  x = layerNorm(x, w.embLng, w.embLnb);
  for (const lw of w.layers) {
    const x1 = layerNorm(add(attention(x, lw, shape), x), lw.ln1g, lw.ln1b);
    const ff = linear(
      gelu(linear(x1, lw.wi, lw.bi, h, shape.intermediate)),
      lw.wo2,
      lw.bo2,
      shape.intermediate,
      h,
    );
    x = layerNorm(add(ff, x1), lw.ln2g, lw.ln2b);
  }
  const pooled = new Float64Array(h);
  for (const row of x) for (let j = 0; j < h; j++) pooled[j] += row[j] / x.length;
  const norm = Math.hypot(...pooled);
  return pooled.map((v) => v / norm);
}
