// Progressive enhancement of the search forms: a button that asks the browser for the
// position and reloads the page with `near=lat,lon` (a shareable URL). Without JavaScript,
// or when the position is refused, the municipality picker does the same job.
(function () {
  "use strict";
  if (!("geolocation" in navigator)) return;
  document.querySelectorAll("[data-near]").forEach(function (button) {
    var status = document.getElementById(button.getAttribute("aria-describedby"));
    button.hidden = false;
    button.addEventListener("click", function () {
      button.disabled = true;
      navigator.geolocation.getCurrentPosition(function (position) {
        var url = new URL(window.location.href);
        url.searchParams.set("near", position.coords.latitude.toFixed(5) + "," + position.coords.longitude.toFixed(5));
        url.searchParams.delete("municipality");
        url.searchParams.delete("cursor");
        window.location.assign(url.toString());
      }, function () {
        button.disabled = false;
        if (status) status.textContent = button.getAttribute("data-near-failed");
      }, { timeout: 10000, maximumAge: 300000 });
    });
  });
})();
