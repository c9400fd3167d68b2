/**
 * A real browser for the tests: Debian's Chromium driven by puppeteer-core
 * (playwright-core needs every Deno permission unrestricted: it probes /proc
 * at load; puppeteer-core runs under the test command's flags).
 * `.ci/run` installs Chromium; elsewhere a test that needs it is skipped with
 * a reason (and fails under CI, where Chromium must be there).
 *
 * @module
 */

import puppeteer, { type Browser, type Page } from "puppeteer-core";
import { findProgram, skipWithout } from "./system_tool.ts";

/** The Chromium binary, or null when none is installed. */
export function chromiumPath(): string | null {
  return findProgram(["/usr/bin/chromium", "/usr/bin/chromium-browser"], "ISARTOR_TEST_CHROMIUM");
}

/** Whether browser tests are skipped here (no Chromium, not CI). */
export function skipBrowser(): boolean {
  return skipWithout(chromiumPath(), "Chromium (browser)", "apt-get install chromium");
}

/** Launches headless Chromium with everything that would reach the network turned off. */
export function launchBrowser(): Promise<Browser> {
  return puppeteer.launch({
    executablePath: chromiumPath()!,
    pipe: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-default-apps",
      "--disable-extensions",
    ],
  });
}

/** Where screenshots go (not committed): `$ISARTOR_TEST_ARTIFACTS`, else a temp folder. */
export async function artifactsDir(): Promise<string> {
  const dir = Deno.env.get("ISARTOR_TEST_ARTIFACTS") ??
    `${Deno.env.get("TMPDIR") ?? "/tmp"}/isartor-test-artifacts`;
  await Deno.mkdir(dir, { recursive: true });
  return dir;
}

/** The text of the first element matching `selector` ("" when none). */
export function textOf(page: Page, selector: string): Promise<string> {
  return page.evaluate(
    `document.querySelector(${JSON.stringify(selector)})?.textContent ?? ""`,
  ) as Promise<string>;
}
