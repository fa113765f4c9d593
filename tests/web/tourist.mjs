// The tourist's path through the web app in a real browser (Debian's chromium, driven by
// playwright-core) against a live `sportello serve --demo`: home, events by date and near the
// browser's position, an event's page with its JSON-LD and its calendar file, libraries near
// and open now, a library's page, the catalogue with the nearest copy on the shelf, the
// language switch and the 404 page; in Italian and English, on a phone and a desktop screen;
// the pages without JavaScript; the manifest, the service worker and the offline page. On every page: axe-core (WCAG 2.1 A/AA) must find no
// serious or critical violation, the browser must report no Content-Security-Policy violation,
// no script error and no failed request. Screenshots and the axe results go to ARTEFACTS.
//
// Usage: node tests/web/tourist.mjs BASE_URL ARTEFACTS_DIR   (tests/web/run starts the server)

import assert from "node:assert/strict";
import { join } from "node:path";
import { arguments_, browser, checker, VIEWPORTS } from "./browser.mjs";

const { base, artefacts } = arguments_("tourist.mjs");
const WORDS = {
  it: { events: "Eventi", libraries: "Biblioteche", catalogue: "Catalogo delle biblioteche", location: "Usa la mia posizione",
        show: "Mostra", search: "Cerca", nearest: "Copia più vicina sullo scaffale", calendar: "Aggiungi al calendario",
        notFound: "Pagina non trovata", near: "Vicino alla tua posizione", openOnly: "Solo quelle aperte ora" },
  en: { events: "Events", libraries: "Libraries", catalogue: "Library catalogue", location: "Use my location",
        show: "Show", search: "Search", nearest: "Nearest copy on the shelf", calendar: "Add to calendar",
        notFound: "Page not found", near: "Near your location", openOnly: "Open now only" },
};

const { check, finish } = checker(artefacts);

async function tourist(viewportName, lang) {
  const words = WORDS[lang];
  const tag = `${viewportName}-${lang}`;
  const session = await browser(viewportName, lang);
  const { page } = session;
  try {
    // Home: the browser's language is the page's.
    await page.goto(`${base}/`);
    assert.equal(await page.getAttribute("html", "lang"), lang);
    assert.equal(await page.textContent("h1"), "Sportello");
    await check(session, `${tag}-01-home`);

    // Events of a municipality in the next 30 days, from the home page's picker.
    await page.selectOption("#municipality", "010025");
    await page.click(`main form button[type=submit]`);
    await page.waitForURL(/\/events\?municipality=010025/);
    assert.equal(await page.textContent("h1"), words.events);
    const listed = await page.locator(".result-list > li").count();
    assert.ok(listed > 0, "Genova has demo events in the next 30 days");
    await check(session, `${tag}-02-events-genova`);

    // This weekend, near the browser's position (the script's button, geolocation granted).
    await page.selectOption("#when", "weekend");
    await page.click("main form button[type=submit]");
    await page.waitForURL(/when=weekend/);
    await page.getByRole("button", { name: words.location }).click();
    await page.waitForURL(/near=44\.40730%2C8\.93400|near=44\.4073,8\.934/);
    assert.ok(page.url().includes("when=weekend"), "the window is kept with the position");
    await page.getByText(words.near).waitFor();
    await check(session, `${tag}-03-events-weekend-near`);

    // One event: its JSON-LD is the schema.org Event of what the page shows; add to calendar.
    await page.goto(`${base}/events?near=44.4073,8.934`);
    const first = page.locator(".result-list > li h2 a").first();
    const title = (await first.textContent()).trim();
    assert.ok((await page.locator(".result-list").textContent()).match(/\d+ (m|km)/), "distances are shown");
    await first.click();
    await page.waitForURL(/\/events\/[^/?]+$/);
    assert.equal((await page.textContent("h1")).trim(), title);
    const jsonLd = JSON.parse(await page.locator('script[type="application/ld+json"]').textContent());
    assert.equal(jsonLd["@context"], "https://schema.org");
    assert.equal(jsonLd.name, title);
    assert.ok(jsonLd.startDate && jsonLd.location?.geo, "start date and place");
    const calendar = page.getByRole("link", { name: words.calendar });
    const ics = await page.request.get(new URL(await calendar.getAttribute("href"), page.url()).toString());
    assert.equal(ics.status(), 200);
    assert.match(ics.headers()["content-type"], /^text\/calendar/);
    const icsText = await ics.text();
    assert.match(icsText, /^BEGIN:VCALENDAR/);
    assert.ok(icsText.includes("BEGIN:VEVENT"), "one VEVENT");
    await check(session, `${tag}-04-event`);

    // Libraries near the browser's position, then only those open now.
    await page.getByRole("navigation").getByRole("link", { name: words.libraries, exact: true }).click();
    await page.waitForURL(/\/libraries$/);
    await page.getByRole("button", { name: words.location }).click();
    await page.waitForURL(/\/libraries\?near=/);
    const nearest = page.locator(".result-list > li h2 a").first();
    const libraryName = (await nearest.textContent()).trim();
    assert.ok((await page.locator(".result-list > li").first().textContent()).match(/\d+ (m|km)/));
    await check(session, `${tag}-05-libraries-near`);
    // Bootstrap Italia draws the box on the label, over the input: a person clicks the label.
    await page.locator("label", { hasText: words.openOnly }).click();
    assert.ok(await page.getByLabel(words.openOnly).isChecked());
    await page.click("main form button[type=submit]");
    await page.waitForURL(/open=1/);
    assert.ok(page.url().includes("near="), "the position is kept");
    await check(session, `${tag}-06-libraries-open-now`);

    // The nearest library's page.
    await page.goto(`${base}/libraries?near=44.4073,8.934`);
    await page.locator(".result-list > li h2 a").first().click();
    await page.waitForURL(/\/libraries\/[^/?]+$/);
    assert.equal((await page.textContent("h1")).trim(), libraryName);
    await check(session, `${tag}-07-library`);

    // The catalogue, near the position: each hit names the nearest library with a copy.
    await page.getByRole("navigation").getByRole("link", { name: words.catalogue }).click();
    await page.getByRole("button", { name: words.location }).click();
    await page.waitForURL(/\/catalogue\?near=/);
    await page.getByLabel(/ISBN/).fill("socialismo");
    await page.getByRole("button", { name: words.search, exact: true }).click();
    await page.waitForURL(/q=socialismo/);
    const hit = page.locator(".result-list > li").first();
    assert.ok((await hit.textContent()).includes(words.nearest), "the nearest copy on the shelf");
    await hit.getByRole("link").first().click();
    await page.waitForURL(/\/libraries\/[^/?]+$/);
    await page.goBack();
    await check(session, `${tag}-08-catalogue`);

    // A page that does not exist: the 404 page, in the language.
    const missing = await page.goto(`${base}/no-such-page`);
    assert.equal(missing.status(), 404);
    assert.equal((await page.textContent("h1")).trim(), words.notFound);
    await check(session, `${tag}-09-not-found`);
  } finally {
    await session.close();
  }
}

/// The language switch: a shareable URL, remembered for the next pages.
async function languageSwitch() {
  const session = await browser("phone", "it");
  const { page } = session;
  try {
    await page.goto(`${base}/events?municipality=010025`);
    await page.getByRole("link", { name: "Deutsch" }).click();
    await page.waitForURL(/lang=de/);
    assert.ok(page.url().includes("municipality=010025"), "the switch keeps the page");
    assert.equal(await page.getAttribute("html", "lang"), "de");
    assert.equal((await page.textContent("h1")).trim(), "Veranstaltungen");
    await check(session, "phone-de-events");
    await page.goto(`${base}/libraries`);
    assert.equal(await page.getAttribute("html", "lang"), "de", "remembered without lang=");
    await page.goto(`${base}/events?lang=fr`);
    assert.equal((await page.textContent("h1")).trim(), "Événements");
    await page.goto(`${base}/events?lang=es`);
    assert.equal((await page.textContent("h1")).trim(), "Eventos");
    await check(session, "phone-es-events");
  } finally {
    await session.close();
  }
}

/// Without JavaScript the pages still work; only the location button stays hidden.
async function withoutJavaScript() {
  const session = await browser("phone", "en", { javaScript: false });
  const { page } = session;
  try {
    await page.goto(`${base}/events?municipality=010025`);
    assert.ok((await page.locator(".result-list > li").count()) > 0);
    assert.equal(await page.getByRole("button", { name: WORDS.en.location }).count(), 0, "hidden without a script");
    await page.goto(`${base}/catalogue?q=socialismo&municipality=010025`);
    assert.ok((await page.locator(".result-list > li").count()) > 0);
    await page.screenshot({ path: join(artefacts, "phone-en-no-javascript-catalogue.png"), fullPage: true });
    // A bad value is explained on the page (422), nothing else happens.
    const bad = await page.goto(`${base}/events?when=yesterday`);
    assert.equal(bad.status(), 422);
    assert.ok((await page.textContent("main")).includes("when"), "the field is named");
  } finally {
    await session.close();
  }
}

/// Installable and usable offline: the manifest and its icons, the service worker controlling
/// the pages, and with the network gone a page is the offline page, styled from the cache.
async function installable() {
  const session = await browser("phone", "it");
  const { page, context } = session;
  try {
    await page.goto(`${base}/`);
    const manifestUrl = new URL(await page.getAttribute('link[rel="manifest"]', "href"), base).toString();
    const manifest = await (await page.request.get(manifestUrl)).json();
    assert.equal(manifest.start_url, "/");
    assert.equal(manifest.display, "standalone");
    for (const size of ["192x192", "512x512"]) {
      const icon = manifest.icons.find((i) => i.sizes === size);
      assert.ok(icon, `an icon of ${size}`);
      const image = await page.request.get(new URL(icon.src, base).toString());
      assert.equal(image.status(), 200);
      assert.equal(image.headers()["content-type"], "image/png");
    }
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 15000 });
    await context.setOffline(true);
    await page.goto(`${base}/events?municipality=010025`);
    assert.equal((await page.textContent("h1")).trim(), "Sei offline");
    const styled = await page.evaluate(() => document.fonts.ready.then(() => document.fonts.check('16px "Titillium Web"')));
    assert.ok(styled, "the font comes from the worker's cache");
    await check(session, "phone-it-10-offline");
    await context.setOffline(false);
    await page.goto(`${base}/events?municipality=010025`);
    assert.equal((await page.textContent("h1")).trim(), "Eventi", "back online, the page again");
  } finally {
    await session.close();
  }
}

const started = Date.now();
for (const viewport of Object.keys(VIEWPORTS)) {
  for (const lang of ["it", "en"]) {
    await tourist(viewport, lang);
    console.log(`web: tourist path ${viewport} ${lang}: ok`);
  }
}
await languageSwitch();
console.log("web: language switch: ok");
await withoutJavaScript();
console.log("web: without JavaScript: ok");
await installable();
console.log("web: manifest, service worker and offline page: ok");
console.log(`web: ${finish("axe.json", started)}`);
