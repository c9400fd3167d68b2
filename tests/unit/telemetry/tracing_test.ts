import assert from "node:assert/strict";
import { trace } from "@opentelemetry/api";
import { parentContext, tenantHash } from "../../../src/telemetry/tracing.ts";
import { allowedHosts, otelEnvironment } from "../../../cli/permissions.ts";
import { parseConfig } from "../../../src/config/load.ts";

Deno.test("tracing: a client's traceparent becomes the parent; a malformed one is ignored", () => {
  const parent = trace.getSpanContext(
    parentContext("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),
  );
  assert.equal(parent?.traceId, "0af7651916cd43dd8448eb211c80319c");
  assert.equal(parent?.spanId, "b7ad6b7169203331");
  assert.equal(parent?.isRemote, true);
  for (const bad of ["", "garbage", "00-00000000000000000000000000000000-b7ad6b7169203331-01"]) {
    assert.equal(trace.getSpanContext(parentContext(bad)), undefined, bad);
  }
});

Deno.test("tracing: the tenant is hashed, never named", () => {
  assert.match(tenantHash("acme"), /^[0-9a-f]{8}$/);
  assert.equal(tenantHash("acme"), tenantHash("acme"));
  assert.notEqual(tenantHash("acme"), tenantHash("acme2"));
});

Deno.test("tracing: the gateway process gets OTEL_* only with enable_monitoring", () => {
  const env = { PATH: "/bin", OTEL_DENO: "true", OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318" };
  const off = otelEnvironment(parseConfig({}), env);
  assert.deepEqual(off, { PATH: "/bin" });
  const on = otelEnvironment(
    parseConfig({ enable_monitoring: true, otel_exporter_endpoint: "http://127.0.0.1:4318" }),
    env,
  );
  assert.equal(on.OTEL_DENO, "true");
  assert.equal(on.OTEL_EXPORTER_OTLP_ENDPOINT, "http://127.0.0.1:4318");
  assert.equal(on.OTEL_SERVICE_NAME, "isartor");
});

Deno.test("tracing: the exporter's host joins the network allow-list only with enable_monitoring", () => {
  const base = { llm_provider: "openai", otel_exporter_endpoint: "http://127.0.0.1:4318" };
  assert.ok(!allowedHosts(parseConfig(base)).includes("127.0.0.1:4318"));
  assert.ok(
    allowedHosts(parseConfig({ ...base, enable_monitoring: true })).includes("127.0.0.1:4318"),
  );
});
