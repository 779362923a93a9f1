// Ticks the board's clocks between updates. The server sent every deadline as an ISO
// instant and its own "now" (which --now may have set), so the browser's clock only counts
// the seconds since the page loaded.
(function () {
  "use strict";
  var body = document.body;
  var offset = Date.parse(body.getAttribute("data-now")) - Date.now();
  function span(ms) {
    var minutes = Math.floor(Math.abs(ms) / 60000);
    var d = Math.floor(minutes / 1440), h = Math.floor((minutes % 1440) / 60), m = minutes % 60;
    if (d) { return h ? d + "d " + h + "h" : d + "d"; }
    if (h) { return m ? h + "h " + m + "m" : h + "h"; }
    return m + "m";
  }
  function tick() {
    var now = Date.now() + offset;
    document.querySelectorAll("[data-until]").forEach(function (el) {
      var left = Date.parse(el.getAttribute("data-until")) - now;
      el.textContent = left >= 0 ? "in " + span(left) : span(left) + " overdue";
      el.classList.toggle("overdue", left < 0);
      el.classList.toggle("soon", left >= 0 && left < 3600000);
    });
    document.querySelectorAll("[data-since]").forEach(function (el) {
      el.textContent = span(now - Date.parse(el.getAttribute("data-since")));
    });
  }
  if (!isNaN(offset)) { tick(); setInterval(tick, 15000); }
  // The board's list is swapped in by htmx every 15 s: take the server's "now" it carries
  // (the clock may be a replay's) and tick the new clocks at once.
  // A session that has ended answers the update with the login page: reload the whole page
  // (which goes to the login form properly) rather than swap a form into the list.
  document.body.addEventListener("htmx:beforeSwap", function (event) {
    var xhr = event.detail.xhr;
    if (xhr && xhr.responseURL && xhr.responseURL.indexOf("/login") !== -1) {
      event.detail.shouldSwap = false;
      window.location.reload();
    }
  });
  document.body.addEventListener("htmx:afterSwap", function (event) {
    var live = document.getElementById("board-live");
    var at = live ? Date.parse(live.getAttribute("data-now")) : NaN;
    if (!isNaN(at)) { offset = at - Date.now(); }
    if (!isNaN(offset)) { tick(); }
  });
  // On a phone the summary comes first: the board's filters fold away unless one is set.
  var box = document.querySelector(".filter-box");
  if (box && box.getAttribute("data-active") === "no" && window.matchMedia("(max-width: 30rem)").matches) {
    box.removeAttribute("open");
  }
  var refresh = parseInt(body.getAttribute("data-refresh") || "0", 10);
  if (refresh > 0) { setTimeout(function () { window.location.reload(); }, refresh * 1000); }
})();
