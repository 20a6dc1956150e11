// Live updates: keep the page's websocket in step with its URL, and place rows the page did not have yet.
(function () {
  "use strict";

  // A filter change rewrites the URL without a reload; the socket must follow, or it would
  // keep sending rows for the old filters.
  function followUrl() {
    var body = document.body;
    if (!body.hasAttribute("ws-connect") || !window.htmx) return;
    var wanted = "/ws/live/?page=" + encodeURIComponent(location.pathname + location.search);
    if (body.getAttribute("ws-connect") === wanted) return;
    htmx.trigger(body, "htmx:beforeCleanupElement"); // the ws extension closes the old socket on this event
    body.setAttribute("ws-connect", wanted);
    htmx.process(body);
  }
  document.addEventListener("htmx:pushedIntoHistory", followUrl);
  document.addEventListener("htmx:historyRestore", followUrl);

  // An out-of-band row whose id is not on the page: a new run. Rows that say where they belong go there.
  document.addEventListener("htmx:oobErrorNoTarget", function (event) {
    var element = event.detail && event.detail.content;
    if (!element || !element.getAttribute) return;
    var hint = element.getAttribute("data-live-insert");
    if (!hint) return;
    var parts = hint.split(":");
    var container = document.querySelector(parts[1]);
    if (!container) return;
    element.removeAttribute("hx-swap-oob");
    var empty = container.querySelector(".empty-row");
    if (empty) empty.remove();
    if (parts[0] === "afterbegin") container.insertBefore(element, container.firstChild);
    else container.appendChild(element);
    htmx.process(element);
  });

  document.addEventListener("htmx:wsOpen", function () { document.body.classList.add("is-live"); });
  document.addEventListener("htmx:wsClose", function () { document.body.classList.remove("is-live"); });
})();

// Logs tail: keep the newest line in view when the reader is already at the bottom.
(function () {
  "use strict";
  var atBottom = true;
  function logs() { return document.getElementById("logs"); }
  function stick() {
    var box = logs();
    if (box && atBottom) box.scrollTop = box.scrollHeight;
  }
  document.addEventListener("DOMContentLoaded", stick);
  document.addEventListener("htmx:oobBeforeSwap", function () {
    var box = logs();
    atBottom = !box || box.scrollHeight - box.scrollTop - box.clientHeight < 24;
  });
  document.addEventListener("htmx:oobAfterSwap", stick);
})();

// A live swap keeps what the reader ticked: a row's box (task runs selected for retry), and when the
// whole list is refreshed (the refresh every (re)connect gets), every ticked box and "All matching".
document.addEventListener("htmx:oobBeforeSwap", function (event) {
  "use strict";
  var old = event.detail.target, fresh = event.detail.fragment;
  if (!old || !old.querySelectorAll || !fresh || !fresh.querySelectorAll) return;
  function key(box) { return (box.name || "") + "|" + (box.value || "") + "|" + (box.id || ""); }
  var ticked = {};
  old.querySelectorAll('input[type="checkbox"]').forEach(function (box) { if (box.checked) ticked[key(box)] = true; });
  fresh.querySelectorAll('input[type="checkbox"]').forEach(function (box) {
    if (ticked[key(box)]) box.checked = true;
  });
  var form = fresh.querySelector("#retry-selection"), all = fresh.querySelector('input[name="all_matching"]');
  if (form && all && all.checked) form.classList.add("all-matching-on");
});
