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
