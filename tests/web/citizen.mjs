// The citizen's path through the web app in a real browser (Debian's chromium, driven by
// playwright-core) against a live `sportello serve --demo --dev-auth`: log in as the demo's
// Mario Rossi from the login page, his personal area, his permit applications (one waits for
// documents: upload one), a notice with its QR code and the link to pagoPA Checkout, the inbox
// and a message, the notification preferences, following an event and the events followed,
// logout; in Italian and English, on a phone and a desktop screen. Web Push: the button on the
// notifications page subscribes (the browser's push service stubbed: none is reachable here)
// and registers the subscription as a device; a push delivered through the DevTools protocol
// (ServiceWorker.deliverPushMessage) is shown by the service worker as a notification, and a
// click on it (the worker's notificationclick handler, dispatched in the worker: no protocol
// command clicks a notification) opens the message's page. On every page, the checks of
// browser.mjs (axe-core, CSP, script errors, failed loads) and a screenshot.
//
// Usage: node tests/web/citizen.mjs BASE_URL ARTEFACTS_DIR   (tests/web/run starts the server)

import assert from "node:assert/strict";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { arguments_, browser, checker, VIEWPORTS } from "./browser.mjs";

const { base, artefacts } = arguments_("citizen.mjs");
const WORDS = {
  it: { login: "Accedi", myArea: "Area personale", permits: "Le mie pratiche", payments: "I miei pagamenti",
        inbox: "Messaggi", notifications: "Notifiche", events: "Eventi che seguo", upload: "Carica",
        pay: "Paga con pagoPA", saved: "Preferenze salvate.", follow: "Segui", unfollow: "Non seguire più",
        logout: "Esci", push: "Attiva le notifiche", pushDone: "Notifiche attive su questo dispositivo.",
        save: "Salva", topic: "Pagamenti" },
  en: { login: "Log in", myArea: "My area", permits: "My applications", payments: "My payments",
        inbox: "Inbox", notifications: "Notifications", events: "Events I follow", upload: "Upload",
        pay: "Pay with pagoPA", saved: "Preferences saved.", follow: "Follow", unfollow: "Unfollow",
        logout: "Log out", push: "Turn on notifications", pushDone: "Notifications are on for this device.",
        save: "Save", topic: "Payments" },
};
const PDF = Buffer.from("%PDF-1.4\n% relazione geologica (browser test)\n%%EOF\n");

const { check, finish } = checker(artefacts);

const text = async (page, selector) => (await page.textContent(selector)).trim();

/// Logs in as the first demo person (Mario Rossi) from the header's link.
async function login(session, words, tag) {
  const { page } = session;
  await page.goto(`${base}/`);
  await page.getByRole("link", { name: words.login, exact: true }).click();
  await page.waitForURL(/\/login/);
  await check(session, `${tag}-01-login`);
  assert.ok(await page.getByLabel(/Mario Rossi/).isChecked(), "the demo citizen is picked");
  await page.locator("main form button[type=submit]").click();
  await page.waitForURL(/\/me$/);
  assert.equal(await text(page, "h1"), words.myArea);
  assert.ok((await page.textContent("main")).includes("RSSMRA85T10A562S"));
  await check(session, `${tag}-02-my-area`);
}

async function citizen(viewportName, lang) {
  const words = WORDS[lang];
  const tag = `citizen-${viewportName}-${lang}`;
  const session = await browser(viewportName, lang);
  const { page } = session;
  try {
    await login(session, words, tag);

    // My applications, and the one that waits for documents: upload one.
    await page.getByRole("link", { name: words.permits }).click();
    await page.waitForURL(/\/me\/permits$/);
    const links = await page.locator(".result-list > li h2 a").evaluateAll((as) => as.map((a) => a.href));
    assert.equal(links.length, 4, "the demo's four applications");
    assert.ok((await page.textContent("main")).match(/\d{2}\/\d{2}\/\d{4}|\d{4}/), "deadlines are shown");
    await check(session, `${tag}-03-permits`);
    let waiting = null;
    for (const link of links) {
      await page.goto(link);
      if ((await page.locator("input[type=file]").count()) > 0) {
        waiting = link;
        break;
      }
    }
    assert.ok(waiting, "an application waits for documents");
    assert.ok((await page.locator(".timeline > li").count()) >= 3, "its timeline");
    await check(session, `${tag}-04-permit`);
    const before = await page.locator("#documents > li").count();
    await page.setInputFiles("#file", { name: `relazione-${tag}.pdf`, mimeType: "application/pdf", buffer: PDF });
    await page.getByRole("button", { name: words.upload }).click();
    await page.waitForURL((url) => url.href.startsWith(waiting) && url.hash === "#documents");
    assert.equal(await page.locator("#documents > li").count(), before + 1);
    assert.ok((await page.textContent("#documents")).includes(`relazione-${tag}.pdf`));
    await check(session, `${tag}-05-permit-uploaded`);

    // My payments: the notice's printed data, its QR code, the link to pagoPA Checkout.
    await page.goto(`${base}/me/payments`);
    assert.equal(await text(page, "h1"), words.payments);
    const qr = page.locator("img.qr").first();
    await qr.scrollIntoViewIfNeeded();
    assert.ok(await qr.evaluate((img) => img.complete && img.naturalWidth > 0), "the QR code is drawn");
    assert.match(await text(page, ".notice-code"), /^\d{4} \d{4} \d{4} \d{4} \d{2}$/);
    const pay = page.getByRole("link", { name: words.pay }).first();
    assert.match(await pay.getAttribute("href"), /^https:\/\/checkout\.pagopa\.it\/\d{11}\d{18}$/);
    await check(session, `${tag}-06-payments`);

    // The inbox, and a message.
    await page.goto(`${base}/me/inbox`);
    assert.equal(await text(page, "h1"), words.inbox);
    await check(session, `${tag}-07-inbox`);
    const first = page.locator(".result-list > li h2 a").first();
    const subject = (await first.textContent()).trim();
    await first.click();
    await page.waitForURL(/\/me\/inbox\/[^/]+$/);
    assert.equal(await text(page, "h1"), subject);
    await check(session, `${tag}-08-message`);

    // Notification preferences.
    await page.goto(`${base}/me/notifications`);
    assert.equal(await text(page, "h1"), words.notifications);
    await check(session, `${tag}-09-notifications`);
    const topic = page.getByLabel(words.topic, { exact: true });
    const wanted = !(await topic.isChecked());
    await page.locator("label", { hasText: words.topic }).first().click();
    await page.getByRole("button", { name: words.save }).click();
    await page.getByText(words.saved).waitFor();
    assert.equal(await page.getByLabel(words.topic, { exact: true }).isChecked(), wanted);
    await check(session, `${tag}-10-notifications-saved`);

    // Following an event, the events followed, and no longer following it.
    await page.goto(`${base}/events?municipality=010025`);
    await page.locator(".result-list > li h2 a").first().click();
    await page.waitForURL(/\/events\/[^/?]+$/);
    const eventUrl = page.url();
    const title = await text(page, "h1");
    await page.getByRole("button", { name: words.follow, exact: true }).click();
    await page.getByRole("button", { name: words.unfollow }).waitFor();
    await check(session, `${tag}-11-event-followed`);
    await page.goto(`${base}/me/events`);
    assert.equal(await text(page, "h1"), words.events);
    assert.ok((await page.textContent("main")).includes(title));
    await check(session, `${tag}-12-my-events`);
    await page.goto(eventUrl);
    await page.getByRole("button", { name: words.unfollow }).click();
    await page.getByRole("button", { name: words.follow, exact: true }).waitFor();

    // Logout: the personal area asks to log in again.
    await page.getByRole("button", { name: words.logout }).click();
    await page.waitForURL(`${base}/`);
    await page.goto(`${base}/me/permits`);
    await page.waitForURL(/\/login\?next=%2Fme%2Fpermits/);
  } finally {
    await session.close();
  }
}

/// The P-256 public key (uncompressed point, base64url) a browser's subscription carries.
function subscriptionKeys() {
  const { publicKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  const jwk = publicKey.export({ format: "jwk" });
  const point = Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x, "base64url"), Buffer.from(jwk.y, "base64url")]);
  return { p256dh: point.toString("base64url"), auth: randomBytes(16).toString("base64url") };
}

/// Web Push: subscribe from the notifications page, then a push through the DevTools protocol
/// shown by the worker, and its click opening the message's page.
async function push() {
  const words = WORDS.it;
  const session = await browser("phone", "it", { permissions: ["geolocation", "notifications"] });
  const { page, context } = session;
  try {
    // No push service is reachable here: subscribe() answers what a browser's would, with a
    // real P-256 key, and the page registers it as a device like any subscription.
    const keys = subscriptionKeys();
    await context.addInitScript((keys) => {
      PushManager.prototype.subscribe = async function (options) {
        if (!(options && options.userVisibleOnly && options.applicationServerKey && options.applicationServerKey.length === 65)) {
          throw new Error("subscribe without the server's VAPID key");
        }
        const endpoint = "https://fcm.googleapis.com/fcm/send/sportello-browser-test";
        return { endpoint, toJSON: () => ({ endpoint, keys }) };
      };
    }, keys);
    await login(session, words, "push-phone-it");
    await page.goto(`${base}/me/inbox`);
    const first = page.locator(".result-list > li h2 a").first();
    const messageId = (await first.getAttribute("href")).split("/").pop();
    const subject = (await first.textContent()).trim();

    await page.goto(`${base}/me/notifications`);
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 15000 });
    const registered = page.waitForResponse((r) => r.url().endsWith("/me/devices") && r.request().method() === "POST");
    await page.getByRole("button", { name: words.push }).click();
    assert.equal((await registered).status(), 201, "the subscription is registered as a device");
    await page.getByText(words.pushDone).waitFor();
    await check(session, "push-phone-it-03-subscribed");

    // A push, as the server's notifications worker sends it, delivered to the worker.
    const cdp = await context.newCDPSession(page);
    const registration = new Promise((resolve) => {
      cdp.on("ServiceWorker.workerRegistrationUpdated", ({ registrations }) => {
        const ours = registrations.find((r) => r.scopeURL === `${base}/` && !r.isDeleted);
        if (ours) resolve(ours.registrationId);
      });
    });
    await cdp.send("ServiceWorker.enable");
    const registrationId = await registration;
    const payload = { id: "push-1", message_id: messageId, topic: "permits", subject, body: "Anteprima",
      url: `/inbox/${messageId}` };
    // The notifications, read from the page (its registration outlives a worker's restart).
    const notifications = () => page.evaluate(() => navigator.serviceWorker.ready
      .then((r) => r.getNotifications())
      .then((found) => found.map((n) => ({ title: n.title, body: n.body, data: n.data }))));
    let shown = [];
    let attempts = 0;
    // A worker woken on a loaded machine may miss a push delivered while it starts: try again.
    for (; attempts < 3 && shown.length === 0; attempts++) {
      await cdp.send("ServiceWorker.deliverPushMessage", { origin: base, registrationId, data: JSON.stringify(payload) });
      for (let i = 0; i < 50 && shown.length === 0; i++) {
        shown = await notifications();
        if (shown.length === 0) await page.waitForTimeout(200);
      }
    }
    assert.equal(shown.length, 1, "the push is shown as a notification");
    if (attempts > 1) console.log(`web: the push was shown after ${attempts} deliveries`);
    assert.equal(shown[0].title, subject);
    assert.equal(shown[0].body, "Anteprima");
    assert.equal(shown[0].data.url, `/inbox/${messageId}`);

    // Its click: the worker's notificationclick handler opens the message in the app's window.
    const [worker] = context.serviceWorkers();
    assert.ok(worker, "the service worker runs");
    await worker.evaluate(async () => {
      const [notification] = await self.registration.getNotifications();
      self.dispatchEvent(new NotificationEvent("notificationclick", { notification }));
    });
    await page.waitForURL(`${base}/me/inbox/${messageId}`);
    assert.equal(await text(page, "h1"), subject);
    await check(session, "push-phone-it-04-opened-from-notification");
    assert.equal((await notifications()).length, 0, "the clicked notification is closed");
  } finally {
    await session.close();
  }
}

const started = Date.now();
for (const viewport of Object.keys(VIEWPORTS)) {
  for (const lang of ["it", "en"]) {
    await citizen(viewport, lang);
    console.log(`web: citizen path ${viewport} ${lang}: ok`);
  }
}
await push();
console.log("web: Web Push subscribe, push and click: ok");
console.log(`web: citizen: ${finish("axe-citizen.json", started)}`);
