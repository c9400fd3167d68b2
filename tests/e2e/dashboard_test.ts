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
      cache_mode: "exact",
      cache_backend: "memory",
    });
    const browser = await launchBrowser();
    const shots = await artifactsDir();
    try {
      await chat(gw.url, "What is 2+2?");
      await chat(gw.url, "What is 2+2?"); // an L1a hit
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
      assert.equal(stats.layers.l3.requests, 2);
      await page.waitForFunction(
        `document.querySelector("#c-requests")?.textContent === "${stats.totals.requests}"`,
      );
      await page.waitForSelector("#chart-layers .uplot");
      assert.match(await textOf(page, "#t-tools"), /Claude Code/);
      await page.screenshot({ path: `${shots}/dashboard-overview-1280.png`, fullPage: true });

      await page.click('button[data-tab="requests"]');
      await page.waitForFunction('document.querySelectorAll("#t-requests tbody tr").length >= 3');
      await page.locator("#f-text").fill("curl");
      await page.waitForFunction('document.querySelectorAll("#t-requests tbody tr").length === 1');
      await page.locator("#f-text").fill("");
      await page.select("#f-layer", "l1a");
      await page.waitForFunction('document.querySelectorAll("#t-requests tbody tr").length === 1');

      await page.click('button[data-tab="cache"]');
      await page.waitForFunction('document.querySelector("#k-l1a")?.textContent === "2 entries"');

      await page.click('button[data-tab="providers"]');
      await page.waitForFunction(
        'document.querySelector("#t-providers")?.textContent?.includes("OpenAI-compatible")',
      );
      const providers = await textOf(page, "#t-providers");
      assert.match(providers, /ok 2/);
      assert.ok(!providers.includes("sk-provider-secret"), "a provider key is never shown");

      await page.click('button[data-tab="config"]');
      await page.waitForFunction(
        'document.querySelector("#t-config")?.textContent?.includes("gateway_api_key")',
      );
      const configText = await textOf(page, "#t-config");
      assert.ok(!configText.includes(KEY), "the gateway key is masked");
      assert.ok(!configText.includes("sk-provider-secret-abcdefgh1234"));
      assert.match(configText, /••••1234/);

      // Purge: the tenant's entries go, and the next request is a miss again.
      await page.click('button[data-tab="cache"]');
      page.once("dialog", (d) => void d.accept());
      await page.click("#purge");
      await page.waitForFunction(
        'document.querySelector("#purge-result")?.textContent === "deleted 2 entries"',
      );
      await page.waitForFunction('document.querySelector("#k-l1a")?.textContent === "0 entries"');

      await page.setViewport({ width: 390, height: 844 });
      await page.click('button[data-tab="overview"]');
      // The charts follow the width at the next redraw.
      await page.waitForFunction(
        "document.querySelector('#chart-layers .uplot')?.getBoundingClientRect().right <= innerWidth",
      );
      const overflow = Number(
        await page.evaluate(
          "document.documentElement.scrollWidth - document.documentElement.clientWidth",
        ),
      );
      assert.ok(overflow <= 1, `the page scrolls sideways by ${overflow}px at 390px`);
      await page.screenshot({ path: `${shots}/dashboard-overview-390.png`, fullPage: true });
      assert.deepEqual(failed, [], "every asset loads from the gateway itself");
    } finally {
      await browser.close();
      await gw.close();
      await mock.close();
    }
  },
});
