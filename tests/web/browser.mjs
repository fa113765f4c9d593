// What the browser tests share (tests/web/tourist.mjs, tests/web/citizen.mjs): a fresh
// Chromium per session with a screen, a language and a position, and the check of the page in
// view: axe-core (WCAG 2.0/2.1 A and AA) with no serious or critical violation, no
// Content-Security-Policy violation, script error or failed load reported by the browser, and
// a screenshot.

import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

// Palazzo Ducale, Genova: the demo's events and libraries are around it.
export const GENOVA = { latitude: 44.4073, longitude: 8.934 };
export const VIEWPORTS = {
  phone: { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 },
  desktop: { viewport: { width: 1366, height: 900 } },
};

const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

/// The arguments of a script: the server's address and where the artefacts go.
export function arguments_(script) {
  const [base, artefacts] = process.argv.slice(2);
  if (!base || !artefacts) {
    console.error(`usage: node ${script} BASE_URL ARTEFACTS_DIR`);
    process.exit(2);
  }
  mkdirSync(artefacts, { recursive: true });
  return { base, artefacts };
}

/// A fresh browser (its own profile) with a screen, a language and, when asked, a position.
export async function browser(viewportName, lang, { javaScript = true, permissions = ["geolocation"] } = {}) {
  const userDataDir = mkdtempSync(join(tmpdir(), "sportello-chromium-"));
  // Launch options known to work on this machine (docs/testing.md); playwright adds --headless.
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    ...VIEWPORTS[viewportName],
    locale: lang === "it" ? "it-IT" : "en-GB",
    javaScriptEnabled: javaScript,
    geolocation: GENOVA,
    permissions,
  });
  const problems = [];
  const page = context.pages()[0] ?? (await context.newPage());
  page.on("console", (message) => {
    // A failed load is reported, with its URL, by the response listener below.
    if (message.type() === "error" && !message.text().startsWith("Failed to load resource")) {
      problems.push(`console: ${message.text()}`);
    }
  });
  page.on("pageerror", (error) => problems.push(`script error: ${error.message}`));
  page.on("requestfailed", (request) => problems.push(`request failed: ${request.url()} ${request.failure()?.errorText}`));
  page.on("response", (response) => {
    // The pages' own errors (404, 422) are expected where a step asks for them; what a page
    // loads (assets, the icon) never fails.
    if (response.status() >= 400 && !response.request().isNavigationRequest()) {
      problems.push(`${response.url()}: ${response.status()}`);
    }
  });
  return {
    page,
    problems,
    context,
    async close() {
      await context.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

/// The checks of a run, and their report in `artefacts/axe-NAME.json`.
export function checker(artefacts) {
  const report = [];
  let pages = 0;
  return {
    /// Checks the page in view: axe, the browser's reports, a screenshot.
    async check(session, name) {
      const { page, problems } = session;
      await page.waitForLoadState("load");
      // page.evaluate runs through the DevTools protocol, which the page's CSP does not govern.
      await page.evaluate(axeSource);
      const result = await page.evaluate(() =>
        window.axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } }));
      const violations = result.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length,
        targets: v.nodes.slice(0, 3).map((n) => n.target.join(" ")) }));
      report.push({ page: name, url: page.url(), passes: result.passes.length, violations });
      const blocking = violations.filter((v) => v.impact === "serious" || v.impact === "critical");
      assert.deepEqual(blocking, [], `${name}: serious or critical accessibility violations`);
      assert.deepEqual(problems.splice(0), [], `${name}: the browser reported problems`);
      await page.screenshot({ path: join(artefacts, `${name}.png`), fullPage: true });
      pages += 1;
    },
    /// Writes the report; returns the line that sums it up.
    finish(file, started) {
      writeFileSync(join(artefacts, file), JSON.stringify(report, null, 2));
      const minor = report.flatMap((r) => r.violations).length;
      return `${pages} pages checked by axe-core: 0 serious or critical violations, ${minor} minor or moderate; ` +
        `screenshots and ${file} in ${artefacts} (${((Date.now() - started) / 1000).toFixed(1)} s)`;
    },
  };
}
