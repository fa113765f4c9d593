// Registers the service worker (/sw.js): the shell cached for an offline page. Pages work the
// same without it. On the notifications page, the button that subscribes this browser to Web
// Push with the server's VAPID key and registers the subscription as one of the person's
// devices (POST /me/devices, with the page's CSRF token).
(function () {
  "use strict";
  if (!("serviceWorker" in navigator)) return;
  navigator.serviceWorker.register("/sw.js").catch(function () {});

  var button = document.querySelector("[data-push]");
  if (!button || !("PushManager" in window) || !("Notification" in window)) return;
  var status = document.getElementById("push-status");
  function say(text) { if (status) status.textContent = text; }
  function key(base64url) {
    var base64 = base64url.replace(/-/g, "+").replace(/_/g, "/");
    var raw = atob(base64 + "====".slice(base64.length % 4 || 4));
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return bytes;
  }
  button.hidden = false;
  button.addEventListener("click", function () {
    button.disabled = true;
    Notification.requestPermission()
      .then(function (permission) {
        if (permission !== "granted") throw new Error("permission " + permission);
        return navigator.serviceWorker.ready;
      })
      .then(function (registration) {
        return registration.pushManager.subscribe({
          userVisibleOnly: true,
          applicationServerKey: key(button.getAttribute("data-vapid")),
        });
      })
      .then(function (subscription) {
        var json = subscription.toJSON();
        return fetch("/me/devices", {
          method: "POST",
          credentials: "same-origin",
          headers: { "content-type": "application/json", "x-csrf-token": button.getAttribute("data-csrf") },
          body: JSON.stringify({ kind: "webpush", endpoint: json.endpoint, keys: json.keys }),
        });
      })
      .then(function (response) {
        if (!response.ok) throw new Error("registration " + response.status);
        say(button.getAttribute("data-push-done"));
      })
      .catch(function () {
        say(button.getAttribute("data-push-failed"));
        button.disabled = false;
      });
  });
})();
