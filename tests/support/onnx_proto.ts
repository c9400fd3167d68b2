/**
 * A minimal ONNX writer: just enough of the protobuf wire format and of
 * `onnx.proto` (ModelProto, GraphProto, NodeProto, TensorProto, ValueInfoProto)
 * to write a model that onnxruntime loads. No Python, no dependency.
 *
 * Repeated scalars are written unpacked (one tag per element), which every
 * protobuf parser accepts for proto2 files such as onnx.proto.
 *
 * @module
 */

/** ONNX tensor element types used here (TensorProto.DataType). */
export const DT = { FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6, INT64: 7 } as const;

/** An initializer (constant tensor) of the graph. */
export interface TensorDef {
  name: string;
  dataType: number;
  dims: number[];
  /** Little-endian element bytes (`raw_data`). */
  raw: Uint8Array;
}

/** An attribute value: number (int if integral and `int` set), float, ints, floats or tensor. */
export type AttrValue =
  | { i: number }
  | { f: number }
  | { ints: number[] }
  | { floats: number[] }
  | { s: string }
  | { t: TensorDef };

/** A graph node. */
export interface NodeDef {
  op: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  domain?: string;
  attrs?: Record<string, AttrValue>;
}

/** A graph input or output: name, element type and shape (a string is a symbolic dim). */
export interface ValueDef {
  name: string;
  dataType: number;
  shape: (number | string)[];
}

/** A whole model. */
export interface ModelDef {
  nodes: NodeDef[];
  initializers: TensorDef[];
  inputs: ValueDef[];
  outputs: ValueDef[];
  opset: number;
  /** Extra opset domains, e.g. `{ "com.microsoft": 1 }`. */
  extraOpsets?: Record<string, number>;
  graphName?: string;
}

const encoder = new TextEncoder();

/** Collects protobuf fields of one message. */
class Msg {
  #parts: Uint8Array[] = [];
  #size = 0;

  #push(bytes: Uint8Array) {
    this.#parts.push(bytes);
    this.#size += bytes.length;
  }

  #varint(value: bigint) {
    let v = BigInt.asUintN(64, value);
    const out: number[] = [];
    while (v >= 0x80n) {
      out.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    out.push(Number(v));
    this.#push(Uint8Array.from(out));
  }

  #tag(field: number, wire: number) {
    this.#varint(BigInt((field << 3) | wire));
  }

  int(field: number, value: number | bigint): this {
    this.#tag(field, 0);
    this.#varint(BigInt(value));
    return this;
  }

  float(field: number, value: number): this {
    this.#tag(field, 5);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    this.#push(b);
    return this;
  }

  bytes(field: number, value: Uint8Array): this {
    this.#tag(field, 2);
    this.#varint(BigInt(value.length));
    this.#push(value);
    return this;
  }

  str(field: number, value: string): this {
    return this.bytes(field, encoder.encode(value));
  }

  msg(field: number, value: Msg): this {
    return this.bytes(field, value.finish());
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.#size);
    let at = 0;
    for (const p of this.#parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }
}

function tensorProto(t: TensorDef): Msg {
  const m = new Msg();
  for (const d of t.dims) m.int(1, d);
  m.int(2, t.dataType).str(8, t.name).bytes(9, t.raw);
  return m;
}

function attributeProto(name: string, v: AttrValue): Msg {
  const m = new Msg().str(1, name);
  if ("i" in v) return m.int(3, v.i).int(20, 2);
  if ("f" in v) return m.float(2, v.f).int(20, 1);
  if ("s" in v) return m.str(4, v.s).int(20, 3);
  if ("t" in v) return m.msg(5, tensorProto(v.t)).int(20, 4);
  if ("floats" in v) {
    for (const f of v.floats) m.float(7, f);
    return m.int(20, 6);
  }
  for (const i of v.ints) m.int(8, i);
  return m.int(20, 7);
}

function nodeProto(n: NodeDef, index: number): Msg {
  const m = new Msg();
  for (const i of n.inputs) m.str(1, i);
  for (const o of n.outputs) m.str(2, o);
  m.str(3, n.name ?? `${n.op}_${index}`).str(4, n.op);
  for (const [k, v] of Object.entries(n.attrs ?? {})) m.msg(5, attributeProto(k, v));
  if (n.domain) m.str(7, n.domain);
  return m;
}

function valueInfoProto(v: ValueDef): Msg {
  const shape = new Msg();
  for (const d of v.shape) {
    shape.msg(1, typeof d === "number" ? new Msg().int(1, d) : new Msg().str(2, d));
  }
  const tensorType = new Msg().int(1, v.dataType).msg(2, shape);
  return new Msg().str(1, v.name).msg(2, new Msg().msg(1, tensorType));
}

/** Serializes a model to ONNX protobuf bytes. */
export function encodeModel(model: ModelDef): Uint8Array {
  const graph = new Msg();
  model.nodes.forEach((n, i) => graph.msg(1, nodeProto(n, i)));
  graph.str(2, model.graphName ?? "graph");
  for (const t of model.initializers) graph.msg(5, tensorProto(t));
  for (const v of model.inputs) graph.msg(11, valueInfoProto(v));
  for (const v of model.outputs) graph.msg(12, valueInfoProto(v));
  const m = new Msg().int(1, 8).str(2, "isartor-tests").str(3, "1");
  m.msg(8, new Msg().str(1, "").int(2, model.opset));
  for (const [domain, version] of Object.entries(model.extraOpsets ?? {})) {
    m.msg(8, new Msg().str(1, domain).int(2, version));
  }
  return m.msg(7, graph).finish();
}

/** A float32 initializer. */
export function floatTensor(name: string, dims: number[], data: Float32Array): TensorDef {
  return {
    name,
    dataType: DT.FLOAT,
    dims,
    raw: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
  };
}

/** An int64 initializer. */
export function int64Tensor(name: string, dims: number[], data: number[]): TensorDef {
  const b = new BigInt64Array(data.map((x) => BigInt(x)));
  return { name, dataType: DT.INT64, dims, raw: new Uint8Array(b.buffer) };
}

/** A uint8 initializer. */
export function uint8Tensor(name: string, dims: number[], data: Uint8Array): TensorDef {
  return { name, dataType: DT.UINT8, dims, raw: data.slice() };
}
