// Registers the service worker (/sw.js): the shell cached for an offline page. Pages work the
// same without it.
(function () {
  "use strict";
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/sw.js").catch(function () {});
  }
})();
