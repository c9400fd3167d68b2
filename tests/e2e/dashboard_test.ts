/**
 * The dashboard in a real browser (Chromium via puppeteer-core) against a
 * running gateway with a key: the key prompt, every tab with real data, a
 * purge, and both widths. Screenshots go to the test artifacts folder.
 */

import assert from "node:assert/strict";
import { startMockUpstream } from "../support/mock_upstream.ts";
import { startGateway } from "../support/gateway_harness.ts";
import { artifactsDir, launchBrowser, skipBrowser, textOf } from "../support/browser.ts";

const KEY = "isartor-dashboard-test-key-0123456789";

function chat(url: string, content: string, tool = "claude-cli/2.1.0 (external, cli)") {
  return fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      authorization: `Bearer ${KEY}`,
      "user-agent": tool,
    },
    body: JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content }] }),
  }).then((r) => r.text());
}

Deno.test({
  name: "dashboard: key prompt, every tab with real data, purge, at 1280 and 390 px",
  ignore: skipBrowser(),
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const mock = await startMockUpstream();
    const gw = await startGateway({
      llm_provider: "openai_compatible",
      external_llm_url: `${mock.url}/v1`,
      external_llm_api_key: "sk-provider-secret-abcdefgh1234",
      gateway_api_key: KEY,
      cache_mode: "both",
      cache_backend: "memory",
      embedding_backend: "none",
    });
    const browser = await launchBrowser();
    const shots = await artifactsDir();
    try {
      await chat(gw.url, "What is the capital of France?");
      await chat(gw.url, "What is the capital of France?"); // an L1a hit
      await chat(gw.url, "what is the capital of france"); // an L1b hit
      await chat(gw.url, "Name a prime", "curl/8.5.0");

      const page = await browser.newPage();
      await page.setViewport({ width: 1280, height: 900 });
      const failed: string[] = [];
      page.on("requestfailed", (r) => failed.push(r.url()));
      await page.goto(`${gw.url}/dashboard`);
      // No key yet: the page asks for it, and a wrong one is refused.
      await page.waitForSelector("#key-dialog[open]");
      await page.locator("#key-input").fill("wrong-key");
      await page.click("#key-form button");
      await page.waitForFunction(
        'document.querySelector("#key-error")?.textContent?.includes("refused")',
      );
      await page.locator("#key-input").fill(KEY);
      await page.click("#key-form button");

      // The wrong key was refused and counted too (layer "gateway"): the page shows what the API says.
      await page.waitForFunction(
        'document.querySelector("#t-layers")?.textContent?.includes("L1a exact")',
      );
      const stats = await (await fetch(`${gw.url}/api/v1/stats`, {
        headers: { authorization: `Bearer ${KEY}` },
      })).json();
      assert.equal(stats.layers.l1a.requests, 1);
      // The charts count what the cards count: this key's tenant, not the refused wrong key.
      const timeline = await (await fetch(`${gw.url}/api/v1/timeline?minutes=60`, {
        headers: { authorization: `Bearer ${KEY}` },
      })).json();
      const charted = timeline.buckets.reduce(
        (n: number, b: { layers: Record<string, number> }) =>
          n + Object.values(b.layers).reduce((a, x) => a + x, 0),
        0,
      );
      assert.equal(charted, stats.totals.requests);
      assert.equal(stats.layers.l3.requests, 2);
      await page.waitForFunction(
        `document.querySelector("#c-requests")?.textContent === "${stats.totals.requests}"`,
      );
      await page.waitForSelector("#chart-layers .uplot");
      await page.waitForSelector("#chart-cost .uplot");
      assert.match(await textOf(page, "#t-tools"), /Claude Code/);
      await page.screenshot({ path: `${shots}/dashboard-overview-1280.png`, fullPage: true });

      // Live: a request made now shows up without reloading the page.
      await chat(gw.url, "Name a colour", "curl/8.5.0");
      await page.waitForFunction(
        `document.querySelector("#c-requests")?.textContent === "${stats.totals.requests + 1}"`,
      );

      await page.click('button[data-tab="requests"]');
      await page.waitForFunction('document.querySelectorAll("#t-requests tbody tr").length >= 5');
      await page.screenshot({ path: `${shots}/dashboard-requests-1280.png`, fullPage: true });
      await page.locator("#f-text").fill("curl");
      await page.waitForFunction('document.querySelectorAll("#t-requests tbody tr").length === 2');
      await page.locator("#f-text").fill("");
      await page.select("#f-layer", "l1a");
      await page.waitForFunction('document.querySelectorAll("#t-requests tbody tr").length === 1');

      await page.click('button[data-tab="cache"]');
      const cache = await (await fetch(`${gw.url}/api/v1/cache/stats`, {
        headers: { authorization: `Bearer ${KEY}` },
      })).json();
      await page.waitForFunction(
        `document.querySelector("#k-l1a")?.textContent === "${cache.l1a.entries} entries"`,
      );
      await page.waitForFunction(
        `document.querySelector("#k-l1b")?.textContent === "${cache.l1b.entries} entries"`,
      );
      // The L1b hit, with its similarity.
      await page.waitForFunction('document.querySelectorAll("#t-matches tbody tr").length === 1');
      const l1b = stats.recent.find((r: { layer: string }) => r.layer === "l1b");
      assert.ok(l1b.similarity > 0);
      assert.ok((await textOf(page, "#t-matches")).includes(l1b.similarity.toFixed(4)));
      await page.screenshot({ path: `${shots}/dashboard-cache-1280.png`, fullPage: true });

      await page.click('button[data-tab="providers"]');
      await page.waitForFunction(
        'document.querySelector("#t-providers")?.textContent?.includes("OpenAI-compatible")',
      );
      const providers = await textOf(page, "#t-providers");
      assert.match(providers, /ok 3/); // three questions reached the provider
      assert.ok(!providers.includes("sk-provider-secret"), "a provider key is never shown");
      await page.screenshot({ path: `${shots}/dashboard-providers-1280.png`, fullPage: true });

      await page.click('button[data-tab="config"]');
      await page.waitForFunction(
        'document.querySelector("#t-config")?.textContent?.includes("gateway_api_key")',
      );
      const configText = await textOf(page, "#t-config");
      assert.ok(!configText.includes(KEY), "the gateway key is masked");
      assert.ok(!configText.includes("sk-provider-secret-abcdefgh1234"));
      assert.match(configText, /••••1234/);
      await page.screenshot({ path: `${shots}/dashboard-config-1280.png`, fullPage: true });

      // Purge: the tenant's entries go, and the next request is a miss again.
      await page.click('button[data-tab="cache"]');
      page.once("dialog", (d) => void d.accept());
      await page.click("#purge");
      await page.waitForFunction(
        `document.querySelector("#purge-result")?.textContent === "deleted ${
          cache.l1a.entries + cache.l1b.entries
        } entries"`,
      );
      await page.waitForFunction('document.querySelector("#k-l1a")?.textContent === "0 entries"');
      await page.waitForFunction('document.querySelector("#k-l1b")?.textContent === "0 entries"');
      const again = await fetch(`${gw.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${KEY}` },
        body: JSON.stringify({
          model: "gpt-4o-mini",
          messages: [{ role: "user", content: "What is the capital of France?" }],
        }),
      });
      await again.text();
      assert.equal(again.headers.get("x-isartor-layer"), "l3", "a miss after the purge");

      // Every tab at a phone's width: nothing scrolls sideways (tables scroll inside their box).
      await page.setViewport({ width: 390, height: 844 });
      const hidden = await page.evaluate(
        '[...document.querySelectorAll("#tabs button")].filter((b) => b.getBoundingClientRect().right > innerWidth).length',
      );
      assert.equal(hidden, 0, "every tab is in view at 390px");
      for (const tab of ["overview", "requests", "cache", "providers", "config"]) {
        await page.click(`button[data-tab="${tab}"]`);
        await page.waitForFunction(
          `document.querySelector("#tab-${tab} tbody tr") !== null`,
        );
        if (tab === "overview") {
          // The charts follow the width at the next redraw.
          await page.waitForFunction(
            "document.querySelector('#chart-layers .uplot')?.getBoundingClientRect().right <= innerWidth",
          );
        }
        const overflow = Number(
          await page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth",
          ),
        );
        assert.ok(overflow <= 1, `${tab} scrolls sideways by ${overflow}px at 390px`);
        await page.screenshot({ path: `${shots}/dashboard-${tab}-390.png`, fullPage: true });
      }
      assert.deepEqual(failed, [], "every asset loads from the gateway itself");
    } finally {
      await browser.close();
      await gw.close();
      await mock.close();
    }
  },
});
