/**
 * deploy/docker-compose.yml and deploy/kubernetes/ checked against the gateway
 * they start: their ISARTOR__* variables go through the gateway's own config
 * loader (no unknown, unused or legacy keys; the values written), and the
 * ports, probe paths, service names and secret references agree with that
 * config and with the image. The compose file is validated against the
 * Compose Specification's JSON schema (tests/fixtures/compose_spec.json, from
 * compose-spec/compose-spec at 170098ba, Apache-2.0) and the Kubernetes
 * objects against kubernetes-models' API schemas (types and required fields;
 * unlike `kubeconform -strict`, a misspelt field name passes them, which is why
 * the fields the gateway depends on are asserted one by one below);
 * `kubectl kustomize` and `docker compose config` run too where installed.
 */

import assert from "node:assert/strict";
import { parseAllDocuments } from "yaml";
import { Ajv } from "ajv";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { Service } from "kubernetes-models/v1/Service";
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { Secret } from "kubernetes-models/v1/Secret";
import { Namespace } from "kubernetes-models/v1/Namespace";
import { NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicy";
import { REPOSITORY, VERSION } from "../../src/version.ts";
import { bindProblem, splitHostPort } from "../../src/server.ts";
import { OriginGuard } from "../../src/http/origin_guard.ts";
import type { Config } from "../../src/config/schema.ts";
import { allowedHosts } from "../../cli/permissions.ts";
import { startGateway } from "../support/gateway_harness.ts";
import { rawRequest } from "../support/raw_http.ts";
import { findProgram } from "../support/system_tool.ts";
import { REPO as REPO_ROOT } from "../support/cli_runner.ts";
import {
  composeEnv,
  composeFile,
  gatewayReads,
  imageDefaults,
  type K8sObject,
  kubernetesObjects,
  objectOf,
  portNumber,
  readRepoFile,
  SECRET_NAME,
  secretsExample,
} from "../support/deploy_files.ts";

/** The image the release workflow pushes for this version (docs/install.md). */
const IMAGE = `ghcr.io/${REPOSITORY}:${VERSION}`;

/** The host a wildcard-bound gateway answers to, through the real browser guard. */
function guardFor(config: Config): OriginGuard {
  return new OriginGuard({
    bindHost: splitHostPort(config.host_port).hostname,
    allowedHosts: config.allowed_hosts,
    allowedOrigins: config.allowed_origins,
  });
}

Deno.test("compose: valid against the Compose Specification schema", async () => {
  const schema = JSON.parse(
    await Deno.readTextFile(`${REPO_ROOT}/tests/fixtures/compose_spec.json`),
  );
  delete schema.$schema; // draft-07, named by an https URL that Ajv does not know by that name
  const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);
  const ok = validate(await composeFile());
  assert.ok(ok, JSON.stringify(validate.errors, null, 2));
});

Deno.test("compose: two replicas of the published image, every ISARTOR__ variable read by the gateway", async () => {
  const { services } = await composeFile();
  const gw = services.isartor;
  assert.equal(gw.image, IMAGE);
  assert.deepEqual(gw.build, { context: "..", dockerfile: "Dockerfile" });
  assert.equal(gw.deploy.replicas, 2);
  const cases: Record<string, string>[] = [{}, { ISARTOR_EMBEDDING_BACKEND: "remote" }];
  for (const vars of cases) {
    const config = gatewayReads(await composeEnv(vars), `compose ${JSON.stringify(vars)}`);
    assert.equal(config.cache_backend, "redis");
    assert.equal(bindProblem(config), null, "a wildcard bind with a gateway key starts");
    const redis = new URL(config.redis_url);
    assert.ok(services[redis.hostname], `redis_url names the service ${redis.hostname}`);
    assert.deepEqual(services[redis.hostname].expose, [redis.port || "6379"]);
    // The gateway process may reach Redis (and the embedding server when it is used).
    const hosts = allowedHosts(config);
    assert.ok(hosts.includes(`${redis.hostname}:${redis.port}`), hosts.join(","));
    const remote = vars.ISARTOR_EMBEDDING_BACKEND === "remote";
    const embed = new URL(config.embedding_sidecar.sidecar_url);
    assert.equal(config.embedding_backend, remote ? "remote" : "minilm");
    assert.equal(hosts.includes(`${embed.hostname}:${embed.port || "80"}`), remote);
    assert.deepEqual(services[embed.hostname].expose, [embed.port || "80"]);
  }
});

Deno.test("compose: the embedding server is optional (profile tei) and speaks what the remote backend calls", async () => {
  const { services } = await composeFile();
  const tei = services.embeddings;
  assert.deepEqual(tei.profiles, ["tei"]);
  assert.match(tei.image, /^ghcr\.io\/huggingface\/text-embeddings-inference:cpu-\d+\.\d+$/);
  // The in-process default's model: the calibrated threshold stays right.
  assert.deepEqual(tei.command, ["--model-id", "sentence-transformers/all-MiniLM-L6-v2"]);
  assert.match(tei.healthcheck.test.join(" "), /GET \/health /);
  assert.deepEqual(services.isartor.depends_on.embeddings, {
    condition: "service_healthy",
    required: false,
  });
  assert.ok(!services.isartor.profiles, "the gateway runs without the profile");
});

Deno.test("compose: one port from config to image, health check and load balancer", async () => {
  const { services } = await composeFile();
  const config = gatewayReads(await composeEnv({}), "compose");
  const port = splitHostPort(config.host_port).port;
  assert.deepEqual((await imageDefaults()).expose, [port]);
  assert.deepEqual(services.isartor.expose, [String(port)]);
  // `isartor __health` asks /healthz on the configured port (tests/e2e/release_workflow_test.ts).
  assert.deepEqual(services.isartor.healthcheck.test, [
    "CMD",
    "deno",
    "task",
    "-q",
    "isartor",
    "__health",
  ]);
  assert.deepEqual(services.isartor.depends_on.redis, { condition: "service_healthy" });
  assert.deepEqual(services.redis.healthcheck.test, ["CMD", "redis-cli", "ping"]);
  const nginx = await readRepoFile("deploy/nginx.conf");
  assert.match(nginx, new RegExp(`server isartor:${port};`));
  const lbPort = nginx.match(/listen (\d+);/)?.[1];
  assert.deepEqual(services.lb.ports, [`127.0.0.1:8080:${lbPort}`]);
  assert.match(nginx, /proxy_buffering off;/, "streams relayed as they arrive");
  assert.equal(services.lb.volumes[0], "./nginx.conf:/etc/nginx/nginx.conf:ro");
  // nginx passes the client's Host on: the names used inside the network must be allowed.
  const guard = guardFor(config);
  for (const host of ["isartor:8080", "lb:8080", "127.0.0.1:8080", "172.18.0.5:8080"]) {
    assert.ok(guard.hostAllowed(host), host);
  }
  assert.ok(!guard.hostAllowed("rebound.example:8080"));
  // Redis is sized by maxmemory, with an eviction policy for keys that all expire.
  assert.match(services.redis.command.join(" "), /--maxmemory \S+ --maxmemory-policy volatile-lru/);
});

Deno.test("compose: keys come from the git-ignored env file, never inline", async () => {
  const { services } = await composeFile();
  const gw = services.isartor;
  assert.deepEqual(gw.env_file, [{ path: "./isartor.secrets.env", required: true }]);
  const gitignore = await readRepoFile(".gitignore");
  assert.ok(gitignore.split("\n").includes("deploy/isartor.secrets.env"));
  const example = await secretsExample();
  assert.deepEqual(Object.keys(example).sort(), [
    "ISARTOR__EXTERNAL_LLM_API_KEY",
    "ISARTOR__GATEWAY_API_KEY",
  ]);
  for (const v of Object.values(example)) assert.match(v, /^REPLACE_ME/);
  for (const [name, service] of Object.entries(services)) {
    for (const k of Object.keys(service.environment ?? {})) {
      assert.ok(!SECRET_NAME.test(k), `${name}: ${k} written inline`);
    }
  }
});

Deno.test("kubernetes: every object valid against the Kubernetes API schema", async () => {
  const { objects } = await kubernetesObjects();
  const models: Record<string, new (o: K8sObject) => { validate(): void }> = {
    Deployment,
    Service,
    ConfigMap,
    Secret,
    Namespace,
    NetworkPolicy,
  };
  for (const o of objects) {
    const Model = models[o.kind];
    assert.ok(Model, `no schema for ${o.kind}`);
    new Model(o).validate();
  }
});

/** The gateway's objects, and its config as loaded from the ConfigMap and Secret. */
async function kubernetesGateway() {
  const { kustomization, objects } = await kubernetesObjects();
  const deployment = objectOf(objects, "Deployment", "isartor");
  const pod = deployment.spec.template.spec;
  assert.equal(pod.containers.length, 1);
  const container = pod.containers[0];
  const envFrom = container.envFrom as {
    configMapRef?: { name: string };
    secretRef?: { name: string };
  }[];
  const configMap = objectOf(
    objects,
    "ConfigMap",
    envFrom.find((e) => e.configMapRef)!.configMapRef!.name,
  );
  const secret = objectOf(objects, "Secret", envFrom.find((e) => e.secretRef)!.secretRef!.name);
  const env = { ...(await imageDefaults()).env, ...configMap.data, ...secret.stringData };
  return {
    kustomization,
    objects,
    deployment,
    pod,
    container,
    configMap,
    secret,
    config: gatewayReads(env, "kubernetes"),
  };
}

Deno.test("kubernetes: 2 replicas of the published image, every ISARTOR__ variable read by the gateway", async () => {
  const { deployment, container, config } = await kubernetesGateway();
  assert.equal(deployment.spec.replicas, 2);
  assert.equal(container.image, IMAGE);
  assert.equal(config.cache_backend, "redis");
  assert.equal(bindProblem(config), null, "a wildcard bind with a gateway key starts");
  assert.deepEqual(
    deployment.spec.selector.matchLabels,
    deployment.spec.template.metadata.labels,
  );
  // data_dir is the pod's own volume; the cache is in Redis.
  const mount = container.volumeMounts.find((m: { mountPath: string }) =>
    m.mountPath === config.data_dir
  );
  assert.ok(mount, `a volume at data_dir ${config.data_dir}`);
});

Deno.test("kubernetes: one port from config to container, probes on /healthz and the Service", async () => {
  const { objects, kustomization, deployment, container, config } = await kubernetesGateway();
  const port = splitHostPort(config.host_port).port;
  assert.deepEqual((await imageDefaults()).expose, [port]);
  assert.deepEqual(container.ports.map((p: { containerPort: number }) => p.containerPort), [port]);
  for (const probe of ["startupProbe", "readinessProbe", "livenessProbe"]) {
    const get = container[probe]?.httpGet;
    assert.ok(get, `${probe} is an HTTP GET`);
    assert.equal(get.path, "/healthz", probe);
    assert.equal(portNumber(container, get.port), port, probe);
  }
  const service = objectOf(objects, "Service", "isartor");
  assert.deepEqual(service.spec.selector, deployment.spec.template.metadata.labels);
  assert.equal(portNumber(container, service.spec.ports[0].targetPort), port);
  // Probes come from the kubelet with the pod's IP as Host; clients use the Service's names.
  const guard = guardFor(config);
  const ns = kustomization.namespace;
  for (
    const host of [
      "10.244.1.7:8080",
      `${service.metadata.name}:${service.spec.ports[0].port}`,
      `${service.metadata.name}.${ns}.svc.cluster.local:8080`,
    ]
  ) assert.ok(guard.hostAllowed(host), host);
});

Deno.test("kubernetes: redis_url names the Redis Service, and Redis is bounded by maxmemory", async () => {
  const { objects, config } = await kubernetesGateway();
  const url = new URL(config.redis_url);
  const service = objectOf(objects, "Service", url.hostname);
  assert.equal(service.spec.ports[0].port, Number(url.port || 6379));
  const redis = objects.find((o) =>
    o.kind === "Deployment" &&
    Object.entries(service.spec.selector).every(([k, v]) =>
      o.spec.template.metadata.labels[k] === v
    )
  );
  assert.ok(redis, "a Deployment behind the Redis Service");
  const container = redis.spec.template.spec.containers[0];
  assert.match(container.image, /^redis:\d/);
  assert.equal(portNumber(container, service.spec.ports[0].targetPort), 6379);
  assert.match(container.args.join(" "), /--maxmemory \S+ --maxmemory-policy volatile-lru/);
  assert.ok(allowedHosts(config).includes(`${url.hostname}:${url.port}`));
});

Deno.test("kubernetes: keys are in the Secret (placeholders), referenced, never inline", async () => {
  const { container, configMap, secret, objects } = await kubernetesGateway();
  assert.deepEqual(
    Object.keys(secret.stringData).sort(),
    Object.keys(await secretsExample()).sort(),
  );
  for (const v of Object.values(secret.stringData)) assert.match(String(v), /^REPLACE_ME/);
  for (const k of Object.keys(configMap.data)) {
    assert.ok(!SECRET_NAME.test(k), `${k} in the ConfigMap`);
  }
  for (const e of container.env ?? []) {
    assert.ok(!SECRET_NAME.test(e.name) || e.value === undefined, `${e.name} written inline`);
  }
  assert.equal(objects.filter((o) => o.kind === "Secret").length, 1);
});

Deno.test("kubernetes config: /healthz answers without the key, under the Service's name; the rest needs the key", async () => {
  const { config } = await kubernetesGateway();
  // Loopback only: the config as loaded, bound on 127.0.0.1, cache in memory, no model.
  const { data_dir: _dataDir, ...rest } = config;
  const gw = await startGateway({
    ...rest,
    host_port: "127.0.0.1:0",
    cache_backend: "memory",
    embedding_backend: "none",
  });
  try {
    const health = await rawRequest(gw.url, "GET", "/healthz", { host: "isartor:8080" });
    assert.equal(health.status, 200, health.body);
    const stats = await rawRequest(gw.url, "GET", "/api/v1/cache/stats", { host: "isartor:8080" });
    assert.equal(stats.status, 401, stats.body);
    const keyed = await rawRequest(gw.url, "GET", "/api/v1/cache/stats", {
      host: "isartor:8080",
      authorization: `Bearer ${config.gateway_api_key}`,
    });
    assert.equal(keyed.status, 200, keyed.body);
  } finally {
    await gw.close();
  }
});

const kubectl = findProgram(["/usr/bin/kubectl", "/usr/local/bin/kubectl"], "KUBECTL");
if (!kubectl) console.warn("kubectl kustomize check skipped: kubectl is not installed");

Deno.test({
  name: "kubernetes: kubectl kustomize builds the same objects, all in the namespace",
  ignore: !kubectl,
  async fn() {
    const out = await new Deno.Command(kubectl!, {
      args: ["kustomize", `${REPO_ROOT}/deploy/kubernetes`],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const err = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, err);
    const built = parseAllDocuments(new TextDecoder().decode(out.stdout)).map((d) =>
      d.toJS() as K8sObject
    );
    const { kustomization, objects } = await kubernetesObjects();
    const names = (list: K8sObject[]) => list.map((o) => `${o.kind}/${o.metadata.name}`).sort();
    assert.deepEqual(names(built), names(objects));
    for (const o of built) {
      if (o.kind !== "Namespace") assert.equal(o.metadata.namespace, kustomization.namespace);
    }
  },
});

/** `docker compose` (the v2 plugin) when it runs here; Debian's docker-compose 1.x predates the spec used. */
async function dockerCompose(): Promise<string | null> {
  const docker = findProgram(["/usr/bin/docker", "/usr/local/bin/docker"], "DOCKER");
  if (!docker) return null;
  const out = await new Deno.Command(docker, {
    args: ["compose", "version"],
    stdout: "null",
    stderr: "null",
  })
    .output().catch(() => null);
  return out?.code === 0 ? docker : null;
}
const docker = await dockerCompose();
if (!docker) {
  console.warn("docker compose config check skipped: the Compose v2 plugin is not installed");
}

Deno.test({
  name: "compose: docker compose config accepts the file, with the example env file in place",
  ignore: !docker,
  async fn() {
    // A copy, so no real env file is needed in the work tree.
    const dir = await Deno.makeTempDir({ prefix: "isartor-compose-" });
    try {
      await Deno.mkdir(`${dir}/deploy`);
      for (const f of ["docker-compose.yml", "nginx.conf"]) {
        await Deno.copyFile(`${REPO_ROOT}/deploy/${f}`, `${dir}/deploy/${f}`);
      }
      await Deno.copyFile(
        `${REPO_ROOT}/deploy/isartor.secrets.env.example`,
        `${dir}/deploy/isartor.secrets.env`,
      );
      await Deno.copyFile(`${REPO_ROOT}/Dockerfile`, `${dir}/Dockerfile`);
      const out = await new Deno.Command(docker!, {
        args: ["compose", "-f", `${dir}/deploy/docker-compose.yml`, "config", "--format", "json"],
        stdout: "piped",
        stderr: "piped",
        env: { ISARTOR_EMBEDDING_BACKEND: "" },
      }).output();
      assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
      const resolved = JSON.parse(new TextDecoder().decode(out.stdout));
      const env = resolved.services.isartor.environment;
      assert.equal(env.ISARTOR__EMBEDDING_BACKEND, "minilm");
      assert.equal(env.ISARTOR__GATEWAY_API_KEY, "REPLACE_ME_with_a_long_random_secret");
      gatewayReads({ ...(await imageDefaults()).env, ...env }, "docker compose config");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
