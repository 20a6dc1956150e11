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

// A live row replacing one the reader has ticked stays ticked (task runs selected for retry).
document.addEventListener("htmx:oobBeforeSwap", function (event) {
  "use strict";
  var old = event.detail.target;
  var box = old && old.querySelector && old.querySelector('input[name="ids"]');
  if (!box || !box.checked || !event.detail.fragment) return;
  var fresh = event.detail.fragment.querySelector('input[name="ids"]');
  if (fresh) fresh.checked = true;
});
