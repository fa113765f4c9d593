// Sportello's service worker. The server fills in VERSION (the assets' hash) and SHELL (the
// assets' URLs, the manifest and the offline page) when it serves this file, so a new build installs a new
// cache and the old one is removed. Assets come from the cache (their URLs never change
// content); pages from the network, and the offline page when there is none.
"use strict";
const VERSION = "__VERSION__";
const SHELL = __SHELL__;
const CACHE = "sportello-" + VERSION;

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((key) => key.startsWith("sportello-") && key !== CACHE)
        .map((key) => caches.delete(key))))
      .then(() => self.clients.claim()));
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname.startsWith("/assets/")) {
    event.respondWith(caches.match(request).then((hit) => hit || fetch(request)));
  } else if (request.mode === "navigate") {
    event.respondWith(fetch(request).catch(() => caches.match("/offline")));
  } else if (SHELL.includes(url.pathname)) {
    // The manifest: fresh when online, the cached one offline.
    event.respondWith(fetch(request).catch(() => caches.match(request, { ignoreVary: true })));
  }
});

// Web Push: the server's payload (server/src/notify: subject, body, url, message_id) shown as
// a notification; a click opens its page, in a window of the app when one is open.
self.addEventListener("push", (event) => {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch (error) {
    data = { body: event.data ? event.data.text() : "" };
  }
  const title = data.subject || "Sportello";
  const url = typeof data.url === "string" && data.url.startsWith("/") ? data.url : "/me/inbox";
  event.waitUntil(self.registration.showNotification(title, {
    body: data.body || "",
    tag: data.message_id || undefined,
    data: { url },
  }));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const target = new URL((event.notification.data && event.notification.data.url) || "/me/inbox", self.location.origin);
  if (target.origin !== self.location.origin) return;
  event.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then((windows) => {
      const open = windows.find((client) => new URL(client.url).origin === self.location.origin);
      if (open) {
        // navigate() needs a window this worker controls; otherwise a new one.
        return open.navigate(target.href).then(
          (client) => (client || open).focus().catch(() => client),
          () => self.clients.openWindow(target.href));
      }
      return self.clients.openWindow(target.href);
    }));
});
