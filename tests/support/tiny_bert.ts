/**
 * Writes a random BERT encoder in Hugging Face layout (config.json,
 * tokenizer.json with a WordPiece model, tokenizer_config.json,
 * onnx/model.onnx and optionally onnx/model_quantized.onnx), so tests and the
 * benchmark run the real loading code without the network.
 *
 * The shape is a parameter: tests use a tiny one, the benchmark MiniLM-L6's
 * exact shape ({@linkcode MINILM_L6_SHAPE}), since speed depends on the shape,
 * not on the weight values. The quantized file follows onnxruntime's dynamic
 * quantization as in Xenova's exports: uint8 weights, `DynamicQuantizeLinear`
 * + `MatMulInteger` for every weight matrix, a uint8 word-embedding table read
 * through `Gather` + `DequantizeLinear`.
 *
 * @example
 * ```ts
 * const model = await writeTinyBert(await Deno.makeTempDir());
 * // model.dir holds the files; model.weights feeds the reference forward pass.
 * ```
 *
 * @module
 */

import {
  type BertShape,
  type BertWeights,
  LAYER_NORM_EPS,
  randomBertWeights,
} from "./bert_reference.ts";
import {
  DT,
  encodeModel,
  floatTensor,
  int64Tensor,
  type NodeDef,
  type TensorDef,
  uint8Tensor,
} from "./onnx_proto.ts";

import type { ModelManifest } from "../../src/embed/model_files.ts";
import { sha256File } from "../../src/embed/model_download.ts";

export type { BertShape, BertWeights } from "./bert_reference.ts";

/** A tiny shape for unit tests: loads in milliseconds. */
export const TINY_SHAPE: BertShape = {
  layers: 2,
  hidden: 32,
  heads: 4,
  intermediate: 64,
  vocabSize: 64,
  maxPositions: 64,
};

/** sentence-transformers/all-MiniLM-L6-v2's shape. */
export const MINILM_L6_SHAPE: BertShape = {
  layers: 6,
  hidden: 384,
  heads: 12,
  intermediate: 1536,
  vocabSize: 30522,
  maxPositions: 512,
};

/** The special tokens, at ids 0–4. */
export const SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] as const;

/** The vocabulary's words (after the special tokens): lower-case words, pieces, punctuation. */
export const WORDS: readonly string[] = (
  "the a what is capital of france paris how do i reverse list in python cache answer question " +
  "hello world weather today tomorrow cat dog run fast slow model embed vector search token " +
  "gateway local cloud write code test file ##s ##ing ##ed ? . , ! ' - 0 1 2"
).split(" ");

/** The whole vocabulary, id = index. */
export const VOCAB: readonly string[] = [...SPECIAL_TOKENS, ...WORDS];

/** What to write. */
export interface TinyBertOptions {
  /** Default {@linkcode TINY_SHAPE}. */
  shape?: BertShape;
  /** Weight seed. Default 1. */
  seed?: number;
  /** Write onnx/model.onnx (fp32). Default true. */
  fp32?: boolean;
  /** Write onnx/model_quantized.onnx (dynamic uint8). Default false. */
  quantized?: boolean;
}

/** A written model. */
export interface TinyBert {
  dir: string;
  shape: BertShape;
  weights: BertWeights;
  /** Relative paths of the files written. */
  files: string[];
}

/**
 * Token ids of `text` as the written tokenizer gives them (lower-cased words
 * and punctuation from {@linkcode VOCAB}, `[CLS]`/`[SEP]` around), computed
 * independently of the tokenizer for reference checks. Words outside the
 * vocabulary and suffix pieces are not handled: use plain vocabulary words.
 */
export function referenceTokenIds(text: string): number[] {
  const words = text.toLowerCase().match(/[a-z0-9]+|[^\sa-z0-9]/g) ?? [];
  return [2, ...words.map((w) => VOCAB.indexOf(w) >= 0 ? VOCAB.indexOf(w) : 1), 3];
}

/** A prompt of exactly `tokens` tokens (special tokens included), from vocabulary words. */
export function promptOfTokens(tokens: number): string {
  const words = WORDS.filter((w) => /^[a-z]+$/.test(w));
  return Array.from({ length: Math.max(0, tokens - 2) }, (_, i) => words[i % words.length])
    .join(" ");
}

/** Builds a graph node by node; names its outputs. */
class GraphBuilder {
  nodes: NodeDef[] = [];
  initializers: TensorDef[] = [];
  #n = 0;

  init(t: TensorDef): string {
    this.initializers.push(t);
    return t.name;
  }

  scalar(name: string, v: number): string {
    return this.init(floatTensor(name, [], Float32Array.of(v)));
  }

  op(op: string, inputs: string[], attrs?: NodeDef["attrs"], outputs = 1): string[] {
    const names = Array.from({ length: outputs }, (_, i) => `${op}_${this.#n}_${i}`);
    this.#n++;
    this.nodes.push({ op, inputs, outputs: names, attrs });
    return names;
  }

  one(op: string, inputs: string[], attrs?: NodeDef["attrs"]): string {
    return this.op(op, inputs, attrs)[0];
  }
}

/** Per-tensor asymmetric uint8 quantization, as onnxruntime's dynamic quantizer does it. */
function quantizeUint8(w: Float32Array): { q: Uint8Array; scale: number; zeroPoint: number } {
  let min = 0;
  let max = 0;
  for (const v of w) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const scale = (max - min) / 255 || 1;
  const zeroPoint = Math.min(255, Math.max(0, Math.round(-min / scale)));
  const q = new Uint8Array(w.length);
  for (let i = 0; i < w.length; i++) {
    q[i] = Math.min(255, Math.max(0, Math.round(w[i] / scale) + zeroPoint));
  }
  return { q, scale, zeroPoint };
}

function buildGraph(shape: BertShape, w: BertWeights, quantized: boolean): Uint8Array {
  const g = new GraphBuilder();
  const { hidden: h, heads, intermediate: m } = shape;
  const hd = h / heads;
  const linear = (x: string, name: string, wt: Float32Array, b: Float32Array, dims: number[]) => {
    const bias = g.init(floatTensor(`${name}.bias`, [dims[1]], b));
    if (!quantized) {
      const wn = g.init(floatTensor(`${name}.weight`, dims, wt));
      return g.one("Add", [g.one("MatMul", [x, wn]), bias]);
    }
    const { q, scale, zeroPoint } = quantizeUint8(wt);
    const wq = g.init(uint8Tensor(`${name}.weight_quantized`, dims, q));
    const wzp = g.init(uint8Tensor(`${name}.weight_zero_point`, [], Uint8Array.of(zeroPoint)));
    const ws = g.scalar(`${name}.weight_scale`, scale);
    const [xq, xs, xzp] = g.op("DynamicQuantizeLinear", [x], undefined, 3);
    const acc = g.one("MatMulInteger", [xq, wq, xzp, wzp]);
    const f = g.one("Cast", [acc], { to: { i: DT.FLOAT } });
    const y = g.one("Mul", [f, g.one("Mul", [xs, ws])]);
    return g.one("Add", [y, bias]);
  };
  const layerNorm = (x: string, name: string, gamma: Float32Array, beta: Float32Array) =>
    g.one("LayerNormalization", [
      x,
      g.init(floatTensor(`${name}.weight`, [h], gamma)),
      g.init(floatTensor(`${name}.bias`, [h], beta)),
    ], { axis: { i: -1 }, epsilon: { f: LAYER_NORM_EPS } });

  let words: string;
  if (quantized) {
    const { q, scale, zeroPoint } = quantizeUint8(w.wordEmb);
    const table = g.init(uint8Tensor("word_embeddings.quantized", [shape.vocabSize, h], q));
    const rows = g.one("Gather", [table, "input_ids"], { axis: { i: 0 } });
    const zp = g.init(uint8Tensor("word_embeddings.zero_point", [], Uint8Array.of(zeroPoint)));
    words = g.one("DequantizeLinear", [rows, g.scalar("word_embeddings.scale", scale), zp]);
  } else {
    const table = g.init(floatTensor("word_embeddings", [shape.vocabSize, h], w.wordEmb));
    words = g.one("Gather", [table, "input_ids"], { axis: { i: 0 } });
  }
  const posTable = g.init(floatTensor("position_embeddings", [shape.maxPositions, h], w.posEmb));
  const seqLen = g.one("Shape", ["input_ids"], { start: { i: 1 }, end: { i: 2 } });
  const zero = g.init(int64Tensor("zero_1d", [1], [0]));
  const positions = g.one("Slice", [posTable, zero, seqLen, zero]);
  const typeTable = g.init(floatTensor("token_type_embeddings", [2, h], w.typeEmb));
  const types = g.one("Gather", [typeTable, "token_type_ids"], { axis: { i: 0 } });
  const emb = g.one("Add", [g.one("Add", [words, positions]), types]);
  let x = layerNorm(emb, "embeddings.LayerNorm", w.embLng, w.embLnb);

  const maskF = g.one("Cast", ["attention_mask"], { to: { i: DT.FLOAT } });
  const axes12 = g.init(int64Tensor("axes_1_2", [2], [1, 2]));
  const mask4 = g.one("Unsqueeze", [maskF, axes12]);
  const inverted = g.one("Sub", [g.scalar("one", 1), mask4]);
  const maskAdd = g.one("Mul", [inverted, g.scalar("mask_value", -10000)]);
  const shape4 = g.init(int64Tensor("shape_heads", [4], [0, 0, heads, hd]));
  const shape3 = g.init(int64Tensor("shape_hidden", [3], [0, 0, h]));
  const sqrtHd = g.scalar("sqrt_head_dim", Math.sqrt(hd));
  const sqrt2 = g.scalar("sqrt_2", Math.SQRT2);
  const half = g.scalar("half", 0.5);

  w.layers.forEach((lw, i) => {
    const p = `encoder.layer.${i}`;
    const split = (t: string, perm: number[]) =>
      g.one("Transpose", [g.one("Reshape", [t, shape4])], { perm: { ints: perm } });
    const q = split(linear(x, `${p}.query`, lw.wq, lw.bq, [h, h]), [0, 2, 1, 3]);
    const k = split(linear(x, `${p}.key`, lw.wk, lw.bk, [h, h]), [0, 2, 3, 1]);
    const v = split(linear(x, `${p}.value`, lw.wv, lw.bv, [h, h]), [0, 2, 1, 3]);
    const scores = g.one("Add", [g.one("Div", [g.one("MatMul", [q, k]), sqrtHd]), maskAdd]);
    const probs = g.one("Softmax", [scores], { axis: { i: -1 } });
    const ctx4 = g.one("Transpose", [g.one("MatMul", [probs, v])], {
      perm: { ints: [0, 2, 1, 3] },
    });
    const ctx = g.one("Reshape", [ctx4, shape3]);
    const attn = linear(ctx, `${p}.attention.output`, lw.wo, lw.bo, [h, h]);
    const x1 = layerNorm(g.one("Add", [attn, x]), `${p}.attention.LayerNorm`, lw.ln1g, lw.ln1b);
    const inter = linear(x1, `${p}.intermediate`, lw.wi, lw.bi, [h, m]);
    const erf = g.one("Erf", [g.one("Div", [inter, sqrt2])]);
    const gelu = g.one("Mul", [g.one("Mul", [inter, half]), g.one("Add", [erf, "one"])]);
    const out = linear(gelu, `${p}.output`, lw.wo2, lw.bo2, [m, h]);
    x = layerNorm(g.one("Add", [out, x1]), `${p}.output.LayerNorm`, lw.ln2g, lw.ln2b);
  });
  g.nodes.push({ op: "Identity", inputs: [x], outputs: ["last_hidden_state"] });

  const ids = (name: string) => ({ name, dataType: DT.INT64, shape: ["batch", "sequence"] });
  return encodeModel({
    nodes: g.nodes,
    initializers: g.initializers,
    inputs: [ids("input_ids"), ids("attention_mask"), ids("token_type_ids")],
    outputs: [{ name: "last_hidden_state", dataType: DT.FLOAT, shape: ["batch", "sequence", h] }],
    opset: 17,
  });
}

function tokenizerJson(): unknown {
  const special = (t: string) => ({ SpecialToken: { id: t, type_id: 0 } });
  const seq = (id: string, type: number) => ({ Sequence: { id, type_id: type } });
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: SPECIAL_TOKENS.map((content, id) => ({
      id,
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: {
      type: "BertNormalizer",
      clean_text: true,
      handle_chinese_chars: true,
      strip_accents: null,
      lowercase: true,
    },
    pre_tokenizer: { type: "BertPreTokenizer" },
    post_processor: {
      type: "TemplateProcessing",
      single: [special("[CLS]"), seq("A", 0), special("[SEP]")],
      pair: [special("[CLS]"), seq("A", 0), special("[SEP]"), seq("B", 1), special("[SEP]")],
      special_tokens: {
        "[CLS]": { id: "[CLS]", ids: [2], tokens: ["[CLS]"] },
        "[SEP]": { id: "[SEP]", ids: [3], tokens: ["[SEP]"] },
      },
    },
    decoder: { type: "WordPiece", prefix: "##", cleanup: true },
    model: {
      type: "WordPiece",
      unk_token: "[UNK]",
      continuing_subword_prefix: "##",
      max_input_chars_per_word: 100,
      vocab: Object.fromEntries(VOCAB.map((t, i) => [t, i])),
    },
  };
}

function hfConfig(shape: BertShape): unknown {
  return {
    architectures: ["BertModel"],
    model_type: "bert",
    attention_probs_dropout_prob: 0.1,
    hidden_act: "gelu",
    hidden_dropout_prob: 0.1,
    hidden_size: shape.hidden,
    initializer_range: 0.02,
    intermediate_size: shape.intermediate,
    layer_norm_eps: LAYER_NORM_EPS,
    max_position_embeddings: shape.maxPositions,
    num_attention_heads: shape.heads,
    num_hidden_layers: shape.layers,
    pad_token_id: 0,
    position_embedding_type: "absolute",
    type_vocab_size: 2,
    vocab_size: shape.vocabSize,
  };
}

const TOKENIZER_CONFIG = {
  clean_up_tokenization_spaces: true,
  cls_token: "[CLS]",
  do_basic_tokenize: true,
  do_lower_case: true,
  mask_token: "[MASK]",
  model_max_length: 512,
  never_split: null,
  pad_token: "[PAD]",
  sep_token: "[SEP]",
  strip_accents: null,
  tokenize_chinese_chars: true,
  tokenizer_class: "BertTokenizer",
  unk_token: "[UNK]",
};

/** Writes a random BERT in Hugging Face layout into `dir` (created if missing). */
export async function writeTinyBert(dir: string, options: TinyBertOptions = {}): Promise<TinyBert> {
  const shape = options.shape ?? TINY_SHAPE;
  if (shape.vocabSize < VOCAB.length) throw new Error(`vocabSize must be >= ${VOCAB.length}`);
  if (shape.hidden % shape.heads !== 0) throw new Error("hidden must be a multiple of heads");
  const weights = randomBertWeights(shape, options.seed ?? 1);
  await Deno.mkdir(`${dir}/onnx`, { recursive: true });
  const json = (v: unknown) => `${JSON.stringify(v, null, 2)}\n`;
  await Deno.writeTextFile(`${dir}/config.json`, json(hfConfig(shape)));
  await Deno.writeTextFile(`${dir}/tokenizer.json`, json(tokenizerJson()));
  await Deno.writeTextFile(`${dir}/tokenizer_config.json`, json(TOKENIZER_CONFIG));
  const files = ["config.json", "tokenizer.json", "tokenizer_config.json"];
  if (options.fp32 ?? true) {
    await Deno.writeFile(`${dir}/onnx/model.onnx`, buildGraph(shape, weights, false));
    files.push("onnx/model.onnx");
  }
  if (options.quantized) {
    await Deno.writeFile(`${dir}/onnx/model_quantized.onnx`, buildGraph(shape, weights, true));
    files.push("onnx/model_quantized.onnx");
  }
  return { dir, shape, weights, files };
}

/**
 * A manifest pinning the files of a written model (sizes and SHA-256), so
 * `isartor models` and `ensureModel` can fetch and verify it like a real one.
 */
export async function tinyManifest(
  model: TinyBert,
  repo = "isartor-tests/tiny-bert",
  revision = "0123456789abcdef0123456789abcdef01234567",
): Promise<ModelManifest> {
  const files = [];
  for (const path of model.files) {
    const full = `${model.dir}/${path}`;
    files.push({
      path,
      size: (await Deno.stat(full)).size,
      sha256: await sha256File(full),
      ...(path === "onnx/model.onnx" ? { variant: "fp32" as const } : {}),
      ...(path === "onnx/model_quantized.onnx" ? { variant: "q8" as const } : {}),
    });
  }
  return {
    name: "tiny-bert",
    model: repo,
    repo,
    revision,
    dims: model.shape.hidden,
    license: "Apache-2.0",
    files,
  };
}
