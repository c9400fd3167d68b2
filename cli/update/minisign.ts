/**
 * Verifies minisign signatures (https://jedisct1.github.io/minisign/): the
 * release workflow signs `SHA256SUMS` with minisign, and `isartor update`
 * checks that signature against the public key built into the binary.
 *
 * No maintained npm package verifies minisign, so the format (two base64
 * lines) is read here; Ed25519 is WebCrypto's, BLAKE2b-512 (for prehashed
 * signatures, minisign's default) comes from @noble/hashes, which WebCrypto
 * lacks.
 *
 * @module
 */

import { blake2b } from "@noble/hashes/blake2.js";

/** A minisign public key: its 8-byte id and the Ed25519 key. */
export interface MinisignPublicKey {
  keyId: Uint8Array;
  key: Uint8Array;
}

/** A parsed `.minisig` file. */
export interface MinisignSignature {
  /** `Ed` (signs the file) or `ED` (signs its BLAKE2b-512 hash). */
  algorithm: "Ed" | "ED";
  keyId: Uint8Array;
  signature: Uint8Array;
  trustedComment: string;
  globalSignature: Uint8Array;
}

/** Why a signature was refused; the message is one line for the user. */
export class SignatureError extends Error {
  override name = "SignatureError";
}

function base64(text: string, what: string): Uint8Array {
  try {
    const bin = atob(text.trim());
    return Uint8Array.from(bin, (c) => c.charCodeAt(0));
  } catch {
    throw new SignatureError(`${what} is not valid base64`);
  }
}

function hex(bytes: Uint8Array): string {
  // minisign prints key ids little-endian, as a 64-bit number.
  return [...bytes].reverse().map((b) => b.toString(16).padStart(2, "0")).join("").toUpperCase();
}

/**
 * Parses a public key: the base64 line alone, or a whole `.pub` file.
 *
 * @example
 * ```ts
 * const pk = parsePublicKey("RWQT22QzEOI783GgrFRf6tV4EK+AI0iQTGWjKHIMggiN+0PWjFmcnWYB");
 * keyIdHex(pk.keyId); // "F33BE2103364DB13"
 * ```
 */
export function parsePublicKey(text: string): MinisignPublicKey {
  const lines = text.trim().split(/\r?\n/).filter((l) => !l.startsWith("untrusted comment:"));
  const raw = base64(lines[0] ?? "", "the minisign public key");
  if (raw.length !== 42 || raw[0] !== 0x45 || raw[1] !== 0x64) {
    throw new SignatureError("the minisign public key is malformed (expected 42 bytes, Ed)");
  }
  return { keyId: raw.slice(2, 10), key: raw.slice(10) };
}

/** A key id as minisign prints it. */
export function keyIdHex(keyId: Uint8Array): string {
  return hex(keyId);
}

/** Parses a `.minisig` file. */
export function parseSignature(text: string): MinisignSignature {
  const lines = text.replace(/\r/g, "").split("\n");
  if (lines.length < 4 || !lines[0].startsWith("untrusted comment:")) {
    throw new SignatureError("the signature file is not a minisign signature");
  }
  const raw = base64(lines[1], "the signature");
  const alg = String.fromCharCode(raw[0] ?? 0, raw[1] ?? 0);
  if (raw.length !== 74 || (alg !== "Ed" && alg !== "ED")) {
    throw new SignatureError("the signature is malformed (expected 74 bytes, Ed or ED)");
  }
  const prefix = "trusted comment: ";
  if (!lines[2].startsWith(prefix)) {
    throw new SignatureError("the signature file has no trusted comment");
  }
  const globalSignature = base64(lines[3], "the trusted comment's signature");
  if (globalSignature.length !== 64) {
    throw new SignatureError("the trusted comment's signature is malformed");
  }
  return {
    algorithm: alg,
    keyId: raw.slice(2, 10),
    signature: raw.slice(10),
    trustedComment: lines[2].slice(prefix.length),
    globalSignature,
  };
}

async function ed25519Verify(key: Uint8Array, sig: Uint8Array, data: Uint8Array) {
  const k = await crypto.subtle.importKey(
    "raw",
    key as Uint8Array<ArrayBuffer>,
    { name: "Ed25519" },
    false,
    ["verify"],
  );
  return await crypto.subtle.verify(
    { name: "Ed25519" },
    k,
    sig as Uint8Array<ArrayBuffer>,
    data as Uint8Array<ArrayBuffer>,
  );
}

/**
 * Verifies `data` against a minisign signature and public key, as
 * `minisign -V` does (the file's signature, then the trusted comment's).
 * Returns the trusted comment; throws {@link SignatureError} on any mismatch.
 */
export async function verifyMinisign(
  data: Uint8Array,
  signatureText: string,
  publicKey: MinisignPublicKey,
): Promise<string> {
  const sig = parseSignature(signatureText);
  if (hex(sig.keyId) !== hex(publicKey.keyId)) {
    throw new SignatureError(
      `signed by key ${hex(sig.keyId)}, not by the release key ${hex(publicKey.keyId)}`,
    );
  }
  const message = sig.algorithm === "ED" ? blake2b(data, { dkLen: 64 }) : data;
  if (!await ed25519Verify(publicKey.key, sig.signature, message)) {
    throw new SignatureError("the signature does not match the file");
  }
  const comment = new TextEncoder().encode(sig.trustedComment);
  const signed = new Uint8Array(64 + comment.length);
  signed.set(sig.signature);
  signed.set(comment, 64);
  if (!await ed25519Verify(publicKey.key, sig.globalSignature, signed)) {
    throw new SignatureError("the trusted comment's signature does not match");
  }
  return sig.trustedComment;
}
