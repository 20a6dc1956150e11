// Running bars and durations grow between live pushes, from the data attributes the server wrote:
//   #gantt          data-axis-start, data-axis-end (ms since the epoch), data-axis-renew while anything runs
//   rect[data-since] a running attempt's bar (began then); its x stays, its width reaches now
//   [data-since]     any other element: a running duration, rewritten as "4.2s", "3m 04s", ...
// A live push that finishes a run replaces its element with one without data-since, which stops it.
// When now passes data-axis-renew the page fetches its Gantt again, on the next, longer axis;
// until that arrives a bar stops at the axis end rather than run past it.
(function () {
  "use strict";
  var TRACK = 1000, MIN_WIDTH = 2;
  var skew = 0; // the server's clock minus this browser's
  var renewed = null, renewedAt = 0; // the layout whose successor was last asked for, and when
  var RENEW_RETRY = 5000; // ms: a fetch that came back with the same axis (clocks a little apart) is tried again

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  // The same format as the server's `duration` filter (dashboard/templatetags/runs.py).
  function duration(ms) {
    var seconds = Math.max(0, ms / 1000);
    if (seconds < 1) return Math.round(seconds * 1000) + "ms";
    if (seconds < 60) return seconds.toFixed(1) + "s";
    var minutes = Math.floor(seconds / 60), secs = Math.floor(seconds) % 60;
    if (minutes < 60) return minutes + "m " + pad(secs) + "s";
    var hours = Math.floor(minutes / 60);
    if (hours < 48) return hours + "h " + pad(minutes % 60) + "m";
    return Math.floor(hours / 24) + "d " + (hours % 24) + "h";
  }

  function number(element, name) { return Number(element.getAttribute(name)); }

  function growBars(gantt, now) {
    var start = number(gantt, "data-axis-start"), end = number(gantt, "data-axis-end");
    if (!(end > start)) return;
    var scale = TRACK / (end - start), until = Math.min(now, end);
    gantt.querySelectorAll("rect[data-since]").forEach(function (bar) {
      var x = number(bar, "x");
      var width = Math.max(MIN_WIDTH, Math.min(TRACK - x, (until - number(bar, "data-since")) * scale));
      bar.setAttribute("width", width.toFixed(2));
    });
    var renew = number(gantt, "data-axis-renew"), layout = gantt.getAttribute("data-gantt-layout");
    if (renew && now >= renew && (renewed !== layout || now - renewedAt > RENEW_RETRY) && window.htmx) {
      renewed = layout;
      renewedAt = now;
      htmx.ajax("GET", location.pathname + location.search, {target: "#gantt", swap: "outerHTML"});
    }
  }

  function tick() {
    var now = Date.now() + skew;
    var gantt = document.getElementById("gantt");
    if (gantt) growBars(gantt, now);
    document.querySelectorAll("[data-since]:not(rect)").forEach(function (element) {
      element.textContent = duration(now - number(element, "data-since"));
    });
  }

  function start() {
    var serverNow = number(document.body, "data-server-now");
    if (serverNow) skew = serverNow - Date.now();
    tick();
    window.setInterval(tick, 1000);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
