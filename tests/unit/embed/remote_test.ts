/**
 * The remote embedder against local mock servers (127.0.0.1) speaking
 * Hugging Face TEI (`POST /embed`) and the OpenAI embeddings API
 * (`POST /v1/embeddings`).
 */
import assert from "node:assert/strict";
import {
  apiOfUrl,
  connectRemoteEmbedder,
  endpointFor,
  parseEmbeddings,
} from "../../../src/embed/remote.ts";

interface Seen {
  path: string;
  body: Record<string, unknown>;
  auth: string | null;
}

/** A vector of length `dims` that depends on the text, deliberately not unit length. */
function fakeVector(text: string, dims: number): number[] {
  return Array.from({ length: dims }, (_, i) => ((text.charCodeAt(i % text.length) % 7) + 1) * 3);
}

/** A mock embedding server; `flavour` decides which routes exist. */
function mockServer(
  flavour: "tei" | "openai" | "both",
  options: { dims?: number; status?: number; delayMs?: number; body?: unknown } = {},
) {
  const dims = options.dims ?? 8;
  const seen: Seen[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const path = new URL(req.url).pathname;
    const body = await req.json().catch(() => ({}));
    seen.push({ path, body, auth: req.headers.get("authorization") });
    if (options.delayMs) await new Promise((r) => setTimeout(r, options.delayMs));
    if (options.status) return new Response("overloaded", { status: options.status });
    if (options.body !== undefined) return Response.json(options.body);
    if (path === "/embed" && flavour !== "openai") {
      return Response.json((body.inputs as string[]).map((t) => fakeVector(t, dims)));
    }
    if (path === "/v1/embeddings" && flavour !== "tei") {
      const input = body.input as string[];
      // Out of order on purpose: the client must sort by index.
      const data = input.map((t, index) => ({
        object: "embedding",
        index,
        embedding: fakeVector(t, dims),
      }))
        .reverse();
      return Response.json({ object: "list", model: body.model || "served-model", data });
    }
    return new Response("not found", { status: 404 });
  });
  const url = `http://127.0.0.1:${server.addr.port}`;
  return { url, seen, close: () => server.shutdown() };
}

function unit(v: number[]): number[] {
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

function close(a: ArrayLike<number>, b: ArrayLike<number>) {
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) < 1e-6);
}

Deno.test("remote: URL forms pick the API and the endpoint", () => {
  assert.equal(apiOfUrl("http://h:1/embed"), "tei");
  assert.equal(apiOfUrl("http://h:1/v1/embeddings"), "openai");
  assert.equal(apiOfUrl("http://h:1/v1/"), "openai");
  assert.equal(apiOfUrl("http://h:1"), null);
  assert.equal(endpointFor("http://h:1/", "tei"), "http://h:1/embed");
  assert.equal(endpointFor("http://h:1", "openai"), "http://h:1/v1/embeddings");
  assert.equal(endpointFor("http://h:1/v1", "openai"), "http://h:1/v1/embeddings");
  assert.equal(endpointFor("http://h:1/api/embeddings", "openai"), "http://h:1/api/embeddings");
});

Deno.test("remote: TEI at a base URL, vectors normalized, dims learned", async () => {
  const mock = mockServer("tei", { dims: 12 });
  try {
    const e = await connectRemoteEmbedder({ url: mock.url });
    assert.equal(e.name, "remote");
    assert.equal(e.api, "tei");
    assert.equal(e.dims, 12);
    assert.equal(e.model, "tei");
    const [a, b] = await e.embed(["What is the capital of France?", "hello"]);
    close(a, unit(fakeVector("What is the capital of France?", 12)));
    close(b, unit(fakeVector("hello", 12)));
    const last = mock.seen.at(-1)!;
    assert.equal(last.path, "/embed");
    assert.deepEqual(last.body.inputs, ["What is the capital of France?", "hello"]);
  } finally {
    await mock.close();
  }
});

Deno.test("remote: an OpenAI-compatible server is found after TEI's 404, order kept", async () => {
  const mock = mockServer("openai");
  try {
    const e = await connectRemoteEmbedder({ url: mock.url, model: "bge-small", apiKey: "sk-x" });
    assert.equal(e.api, "openai");
    assert.equal(e.model, "bge-small");
    assert.equal(e.endpoint, `${mock.url}/v1/embeddings`);
    const texts = ["one", "two", "three"];
    const vectors = await e.embed(texts);
    texts.forEach((t, i) => close(vectors[i], unit(fakeVector(t, 8))));
    const last = mock.seen.at(-1)!;
    assert.deepEqual(last.body, { model: "bge-small", input: texts });
    assert.equal(last.auth, "Bearer sk-x");
    assert.deepEqual(mock.seen.map((s) => s.path).slice(0, 2), ["/embed", "/v1/embeddings"]);
  } finally {
    await mock.close();
  }
});

Deno.test("remote: an explicit /v1/embeddings URL is used as is", async () => {
  const mock = mockServer("both");
  try {
    const e = await connectRemoteEmbedder({ url: `${mock.url}/v1/embeddings` });
    assert.equal(e.api, "openai");
    assert.equal(e.model, "served-model");
    assert.ok(mock.seen.every((s) => s.path === "/v1/embeddings"));
  } finally {
    await mock.close();
  }
});

Deno.test("remote: errors say what is wrong and where", async () => {
  await assert.rejects(connectRemoteEmbedder({ url: "ftp://x" }), /not an http\(s\) URL/);
  // A closed port: unreachable.
  const gone = mockServer("tei");
  const goneUrl = gone.url;
  await gone.close();
  await assert.rejects(
    connectRemoteEmbedder({ url: goneUrl }),
    new RegExp(`embedding server at ${goneUrl}/embed is unreachable`),
  );
  const busy = mockServer("tei", { status: 503 });
  try {
    await assert.rejects(
      connectRemoteEmbedder({ url: busy.url }),
      /answered HTTP 503: overloaded/,
    );
  } finally {
    await busy.close();
  }
  const slow = mockServer("tei", { delayMs: 500 });
  try {
    await assert.rejects(
      connectRemoteEmbedder({ url: slow.url, timeoutMs: 50 }),
      /no answer within 50 ms/,
    );
  } finally {
    await slow.close();
  }
  const odd = mockServer("tei", { body: { vectors: [] } });
  try {
    await assert.rejects(connectRemoteEmbedder({ url: odd.url }), /unexpected answer .*TEI/);
  } finally {
    await odd.close();
  }
});

Deno.test("remote: a server that changes its vector length is refused", async () => {
  let dims = 8;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const body = await req.json();
    return Response.json((body.inputs as string[]).map((t) => fakeVector(t, dims)));
  });
  try {
    const e = await connectRemoteEmbedder({ url: `http://127.0.0.1:${server.addr.port}/embed` });
    dims = 4;
    await assert.rejects(e.embed(["x"]), /returned 4 dimensions, expected 8/);
  } finally {
    await server.shutdown();
  }
});

Deno.test("remote: parseEmbeddings checks counts and numbers", () => {
  assert.throws(() => parseEmbeddings("tei", [[1, 2]], 2), /1 vectors for 2 texts/);
  assert.throws(() => parseEmbeddings("tei", [[0, 0]], 1), /zero/);
  assert.throws(() => parseEmbeddings("openai", { data: [{ embedding: ["a"] }] }, 1), /numbers/);
  assert.throws(() => parseEmbeddings("openai", [], 0), /no "data" array/);
  const [v] = parseEmbeddings("openai", { data: [{ index: 0, embedding: [3, 4] }] }, 1);
  assert.deepEqual(Array.from(v), [0.6000000238418579, 0.800000011920929]);
});
