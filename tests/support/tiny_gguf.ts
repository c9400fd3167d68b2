/**
 * A GGUF v3 writer for test and bench models that llama.cpp (and so wllama)
 * loads: architecture `llama`, a SentencePiece-style vocabulary of control
 * tokens, the 256 byte tokens and padding, and a ChatML chat template.
 *
 * Two kinds of weights:
 * - `chain`: a deterministic "bigram" model. Attention and feed-forward
 *   weights are zero, so each position's logits depend only on its own token;
 *   token embeddings are one-hot and `output.weight` maps each token of
 *   `chain` to the next. After the prompt's last token the model emits the
 *   chain's continuation (greedy), so tests know the exact answer.
 * - `random`: Q4_0 blocks of random nibbles in the shape asked for
 *   (e.g. Qwen2.5-0.5B's), to measure speed: speed depends on the shape,
 *   not on the weight values.
 *
 * @module
 */

const GGUF_TYPE = { u32: 4, i32: 5, f32: 6, bool: 7, string: 8, array: 9 } as const;
const TENSOR_F32 = 0;
const TENSOR_Q4_0 = 2;
const ALIGN = 32;

/** The shape of a llama-architecture model. */
export interface GgufShape {
  nEmbd: number;
  nLayer: number;
  nHead: number;
  nHeadKv: number;
  nFf: number;
  /** Vocabulary size, at least 262 (3 control + 3 ChatML + 256 bytes); padded with plain tokens. */
  nVocab: number;
  nCtx: number;
}

/** Options of {@linkcode writeTinyGguf}. */
export interface TinyGgufOptions {
  shape?: Partial<GgufShape>;
  /**
   * `{ chain: ["\n", "P", "a", ...] }`: each listed piece (a single byte, or
   * `<|im_end|>`) is followed by the next one. Absent: random Q4_0 weights.
   */
  chain?: string[];
  name?: string;
  /** Random seed of `random` weights. */
  seed?: number;
}

const SMALL: GgufShape = {
  nEmbd: 64,
  nLayer: 1,
  nHead: 2,
  nHeadKv: 2,
  nFf: 64,
  nVocab: 320,
  nCtx: 4096,
};

/** The shape of Qwen2.5-0.5B-Instruct (the default router model), for speed measurements. */
export const QWEN2_5_0_5B_SHAPE: GgufShape = {
  nEmbd: 896,
  nLayer: 24,
  nHead: 14,
  nHeadKv: 2,
  nFf: 4864,
  nVocab: 151936,
  nCtx: 2048,
};

const CHATML =
  "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

/** Growing little-endian byte buffer. */
class Bytes {
  private buf = new Uint8Array(1 << 16);
  private view = new DataView(this.buf.buffer);
  length = 0;
  private ensure(n: number) {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
  u32(v: number) {
    this.ensure(4);
    this.view.setUint32(this.length, v, true);
    this.length += 4;
  }
  i32(v: number) {
    this.ensure(4);
    this.view.setInt32(this.length, v, true);
    this.length += 4;
  }
  u64(v: number) {
    this.ensure(8);
    this.view.setBigUint64(this.length, BigInt(v), true);
    this.length += 8;
  }
  f32(v: number) {
    this.ensure(4);
    this.view.setFloat32(this.length, v, true);
    this.length += 4;
  }
  raw(b: Uint8Array) {
    this.ensure(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }
  str(s: string) {
    const b = new TextEncoder().encode(s);
    this.u64(b.length);
    this.raw(b);
  }
  pad() {
    const n = (ALIGN - (this.length % ALIGN)) % ALIGN;
    this.raw(new Uint8Array(n));
  }
  bytes() {
    return this.buf.subarray(0, this.length);
  }
}

type Kv = [string, "u32" | "f32" | "string" | "bool", number | string | boolean] | [
  string,
  "array",
  "string" | "f32" | "i32",
  (string | number)[],
];

function writeKv(out: Bytes, kv: Kv) {
  out.str(kv[0]);
  if (kv[1] === "array") {
    out.u32(GGUF_TYPE.array);
    out.u32(GGUF_TYPE[kv[2]]);
    out.u64(kv[3].length);
    for (const v of kv[3]) {
      if (kv[2] === "string") out.str(v as string);
      else if (kv[2] === "f32") out.f32(v as number);
      else out.i32(v as number);
    }
    return;
  }
  out.u32(GGUF_TYPE[kv[1]]);
  if (kv[1] === "string") out.str(kv[2] as string);
  else if (kv[1] === "f32") out.f32(kv[2] as number);
  else if (kv[1] === "bool") out.raw(new Uint8Array([kv[2] ? 1 : 0]));
  else out.u32(kv[2] as number);
}

/** The vocabulary: control tokens, ChatML markers, 256 byte tokens, padding. */
function vocabulary(nVocab: number) {
  const tokens = ["<unk>", "<s>", "</s>", "<|im_start|>", "<|im_end|>", "<|endoftext|>"];
  const types = [2, 3, 3, 3, 3, 3];
  for (let b = 0; b < 256; b++) {
    tokens.push(`<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`);
    types.push(6);
  }
  for (let i = tokens.length; i < nVocab; i++) {
    tokens.push(`\u2581t${i}`);
    types.push(1);
  }
  return { tokens, types, scores: tokens.map(() => 0) };
}

/** The token id of one chain piece: a byte, or a control token by name. */
function tokenOf(piece: string): number {
  const control = ["<unk>", "<s>", "</s>", "<|im_start|>", "<|im_end|>", "<|endoftext|>"];
  const c = control.indexOf(piece);
  if (c >= 0) return c;
  const bytes = new TextEncoder().encode(piece);
  if (bytes.length !== 1) throw new Error(`chain piece ${JSON.stringify(piece)} is not one byte`);
  return 6 + bytes[0];
}

interface Tensor {
  name: string;
  dims: number[];
  type: number;
  data: Uint8Array;
}

function f32Tensor(name: string, dims: number[], fill: (i: number) => number = () => 0): Tensor {
  const n = dims.reduce((a, b) => a * b, 1);
  const arr = new Float32Array(n);
  for (let i = 0; i < n; i++) arr[i] = fill(i);
  return { name, dims, type: TENSOR_F32, data: new Uint8Array(arr.buffer) };
}

/** Q4_0: per 32 weights an f16 scale and 16 bytes of nibbles. */
function q4Tensor(name: string, dims: number[], next: () => number): Tensor {
  const n = dims.reduce((a, b) => a * b, 1);
  const blocks = n / 32;
  const data = new Uint8Array(blocks * 18);
  for (let b = 0; b < blocks; b++) {
    const o = b * 18;
    data[o] = 0x66; // f16 0.0249 (0x2666): small weights keep activations finite
    data[o + 1] = 0x26;
    for (let j = 2; j < 18; j++) data[o + j] = next() & 0xff;
  }
  return { name, dims, type: TENSOR_Q4_0, data };
}

function xorshift(seed: number): () => number {
  let x = seed | 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
}

function tensors(shape: GgufShape, options: TinyGgufOptions): Tensor[] {
  const { nEmbd, nFf, nVocab, nLayer } = shape;
  const nEmbdKv = (nEmbd / shape.nHead) * shape.nHeadKv;
  const out: Tensor[] = [];
  const chain = options.chain?.map(tokenOf);
  const rnd = xorshift(options.seed ?? 42);
  const matrix = (name: string, dims: number[], fill?: (i: number) => number) =>
    chain ? f32Tensor(name, dims, fill) : q4Tensor(name, dims, rnd);
  const ones = () => 1;
  if (chain) {
    if (chain.length > nEmbd) throw new Error("chain longer than nEmbd");
    // Embedding of chain[k]: one-hot at k; logit of chain[k+1] reads dimension k.
    const slot = new Map<number, number>();
    chain.forEach((t, k) => slot.has(t) || slot.set(t, k));
    out.push(f32Tensor("token_embd.weight", [nEmbd, nVocab], (i) => {
      const token = Math.floor(i / nEmbd);
      const s = slot.get(token);
      return s !== undefined && i % nEmbd === s ? 1 : 0;
    }));
    const successor = new Map<number, number>();
    for (let k = 0; k + 1 < chain.length; k++) successor.set(chain[k + 1], k);
    out.push(f32Tensor("output.weight", [nEmbd, nVocab], (i) => {
      const token = Math.floor(i / nEmbd);
      const s = successor.get(token);
      return s !== undefined && i % nEmbd === s ? 20 : 0;
    }));
  } else {
    out.push(q4Tensor("token_embd.weight", [nEmbd, nVocab], rnd));
    out.push(q4Tensor("output.weight", [nEmbd, nVocab], rnd));
  }
  out.push(f32Tensor("output_norm.weight", [nEmbd], ones));
  for (let l = 0; l < nLayer; l++) {
    const p = `blk.${l}.`;
    out.push(f32Tensor(`${p}attn_norm.weight`, [nEmbd], ones));
    out.push(matrix(`${p}attn_q.weight`, [nEmbd, nEmbd]));
    out.push(matrix(`${p}attn_k.weight`, [nEmbd, nEmbdKv]));
    out.push(matrix(`${p}attn_v.weight`, [nEmbd, nEmbdKv]));
    out.push(matrix(`${p}attn_output.weight`, [nEmbd, nEmbd]));
    out.push(f32Tensor(`${p}ffn_norm.weight`, [nEmbd], ones));
    out.push(matrix(`${p}ffn_gate.weight`, [nEmbd, nFf]));
    out.push(matrix(`${p}ffn_up.weight`, [nEmbd, nFf]));
    out.push(matrix(`${p}ffn_down.weight`, [nFf, nEmbd]));
  }
  return out;
}

/**
 * The bytes of a GGUF file llama.cpp loads.
 *
 * @example
 * ```ts
 * const gguf = writeTinyGguf({ chain: ["\n", "H", "i", "<|im_end|>"] });
 * new TextDecoder().decode(gguf.subarray(0, 4)); // "GGUF"
 * ```
 */
export function writeTinyGguf(options: TinyGgufOptions = {}): Uint8Array<ArrayBuffer> {
  const shape: GgufShape = { ...SMALL, ...options.shape };
  const vocab = vocabulary(shape.nVocab);
  const kvs: Kv[] = [
    ["general.architecture", "string", "llama"],
    ["general.name", "string", options.name ?? "isartor-test-model"],
    ["general.alignment", "u32", ALIGN],
    ["llama.context_length", "u32", shape.nCtx],
    ["llama.embedding_length", "u32", shape.nEmbd],
    ["llama.block_count", "u32", shape.nLayer],
    ["llama.feed_forward_length", "u32", shape.nFf],
    ["llama.attention.head_count", "u32", shape.nHead],
    ["llama.attention.head_count_kv", "u32", shape.nHeadKv],
    ["llama.rope.dimension_count", "u32", shape.nEmbd / shape.nHead],
    ["llama.attention.layer_norm_rms_epsilon", "f32", 1e-5],
    ["tokenizer.ggml.model", "string", "llama"],
    ["tokenizer.ggml.tokens", "array", "string", vocab.tokens],
    ["tokenizer.ggml.scores", "array", "f32", vocab.scores],
    ["tokenizer.ggml.token_type", "array", "i32", vocab.types],
    ["tokenizer.ggml.unknown_token_id", "u32", 0],
    ["tokenizer.ggml.bos_token_id", "u32", 1],
    ["tokenizer.ggml.eos_token_id", "u32", 4],
    ["tokenizer.ggml.add_bos_token", "bool", false],
    ["tokenizer.ggml.add_space_prefix", "bool", false],
    ["tokenizer.chat_template", "string", CHATML],
  ];
  const list = tensors(shape, options);
  const head = new Bytes();
  head.raw(new TextEncoder().encode("GGUF"));
  head.u32(3);
  head.u64(list.length);
  head.u64(kvs.length);
  for (const kv of kvs) writeKv(head, kv);
  let offset = 0;
  for (const t of list) {
    head.str(t.name);
    head.u32(t.dims.length);
    for (const d of t.dims) head.u64(d);
    head.u32(t.type);
    head.u64(offset);
    offset += Math.ceil(t.data.length / ALIGN) * ALIGN;
  }
  head.pad();
  const headBytes = head.bytes();
  const out = new Uint8Array(headBytes.length + offset);
  out.set(headBytes, 0);
  let at = headBytes.length;
  for (const t of list) {
    out.set(t.data, at);
    at += Math.ceil(t.data.length / ALIGN) * ALIGN;
  }
  return out;
}
