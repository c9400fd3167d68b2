/**
 * The embedder interface: text in, unit-length vectors out. Backends are
 * chosen by config (`embedding_backend`): in-process MiniLM, a remote
 * embedding server, or the model-free near-duplicate fallback.
 *
 * @module
 */

/** Turns texts into normalized vectors. */
export interface Embedder {
  /** Backend name for `/health` and `isartor check`, e.g. "minilm", "remote", "none". */
  readonly name: string;
  /** The model behind it, e.g. "sentence-transformers/all-MiniLM-L6-v2". */
  readonly model: string;
  /** Vector length (384 for MiniLM-L6). */
  readonly dims: number;
  /** Unit-length (L2-normalized) embeddings, one per text, in order. */
  embed(texts: string[]): Promise<Float32Array[]>;
  close(): Promise<void>;
}
