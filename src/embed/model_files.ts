/**
 * Pinned model manifests: which files make up each model `isartor models`
 * knows, at which revision of which Hugging Face repository, with their sizes
 * and SHA-256 digests. A download or a folder whose bytes differ is refused.
 *
 * The digests of `Xenova/all-MiniLM-L6-v2` at revision
 * `751bff37182d3f1213fa05d7196b954e230abad9` could not be read from the hub
 * here (no network); they are the values that several independent public
 * projects pin for this exact revision, and all of them agree. The ONNX files
 * are Git LFS objects, so their digests are also the LFS `oid sha256`.
 *
 * @module
 */

/** Which ONNX (or GGUF) variant a file belongs to; files without one are always needed. */
export type ModelVariant = "q8" | "fp32" | "q4_k_m";

/** One file of a model. */
export interface ModelFile {
  /** Path inside the repository (and inside the local model folder). */
  path: string;
  /** Size in bytes. */
  size: number;
  /** Lower-case hex SHA-256 of the content, or null when it is not pinned (size only). */
  sha256: string | null;
  /** Set for ONNX files: the variant the file is. */
  variant?: ModelVariant;
}

/** A model: where it comes from and what it is made of. */
export interface ModelManifest {
  /** Short name, for `isartor models pull --model NAME`. */
  name: string;
  /** The model the vectors come from, as the embedder reports it. */
  model: string;
  /** Hugging Face repository the files are downloaded from (`org/name`). */
  repo: string;
  /** Pinned commit of that repository. */
  revision: string;
  /** Vector length (0 for a chat model). */
  dims: number;
  /** What the model is for: the embedder (default) or the L2 router. */
  role?: "embedding" | "router";
  /** Licence of the weights, for `isartor models list`. */
  license: string;
  files: ModelFile[];
}

/**
 * sentence-transformers/all-MiniLM-L6-v2 as exported to ONNX in
 * `Xenova/all-MiniLM-L6-v2`: 384 dimensions, mean pooling, normalized.
 * `q8` is the int8 dynamically quantized export (the default: faster on
 * WASM, 23 MB), `fp32` the full-precision one (90 MB).
 */
export const MINILM_L6_V2: ModelManifest = {
  name: "all-MiniLM-L6-v2",
  model: "sentence-transformers/all-MiniLM-L6-v2",
  repo: "Xenova/all-MiniLM-L6-v2",
  revision: "751bff37182d3f1213fa05d7196b954e230abad9",
  dims: 384,
  license: "Apache-2.0",
  files: [
    {
      path: "config.json",
      size: 650,
      sha256: "7135149f7cffa1a573466c6e4d8423ed73b62fd2332c575bf738a0d033f70df7",
    },
    {
      path: "tokenizer.json",
      size: 711_661,
      sha256: "da0e79933b9ed51798a3ae27893d3c5fa4a201126cef75586296df9b4d2c62a0",
    },
    {
      path: "tokenizer_config.json",
      size: 366,
      sha256: "9261e7d79b44c8195c1cada2b453e55b00aeb81e907a6664974b4d7776172ab3",
    },
    {
      path: "onnx/model_quantized.onnx",
      size: 22_972_370,
      sha256: "afdb6f1a0e45b715d0bb9b11772f032c399babd23bfc31fed1c170afc848bdb1",
      variant: "q8",
    },
    {
      path: "onnx/model.onnx",
      size: 90_387_606,
      sha256: "759c3cd2b7fe7e93933ad23c4c9181b7396442a2ed746ec7c1d46192c469c46e",
      variant: "fp32",
    },
  ],
};

/** Every model `isartor models` knows; the first is the default. */
export const KNOWN_MODELS: readonly ModelManifest[] = [MINILM_L6_V2];

/** The variant downloaded when none is asked for. */
export const DEFAULT_VARIANT: ModelVariant = "q8";

/**
 * The files needed for `variants` (the shared files plus those variants' ONNX files).
 *
 * @example
 * ```ts
 * filesFor(MINILM_L6_V2, ["q8"]).map((f) => f.path).at(-1); // "onnx/model_quantized.onnx"
 * ```
 */
export function filesFor(manifest: ModelManifest, variants: readonly ModelVariant[]): ModelFile[] {
  return manifest.files.filter((f) => !f.variant || variants.includes(f.variant));
}

/** The variants a manifest offers, in manifest order. */
export function variantsOf(manifest: ModelManifest): ModelVariant[] {
  return manifest.files.flatMap((f) => f.variant ? [f.variant] : []);
}

/** A known model by short name, repository or model id (case-insensitive), or undefined. */
export function findModel(
  name: string,
  models: readonly ModelManifest[] = KNOWN_MODELS,
): ModelManifest | undefined {
  const n = name.toLowerCase();
  return models.find((m) =>
    [m.name, m.repo, m.model].some((candidate) => candidate.toLowerCase() === n)
  );
}
