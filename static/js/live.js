// Keeps the live-updates socket told which page it serves: when htmx changes the URL
// (filters applied without a reload, hx-push-url) the socket switches to the new
// page's groups and sends it fresh; on (re)connect it corrects a stale ws-connect URL.
(function () {
  "use strict";
  var socket = null;

  function currentPage() {
    return window.location.pathname + window.location.search;
  }

  function connectedPage() {
    var source = document.body.getAttribute("ws-connect");
    if (!source) return null;
    return new URL(source, window.location.href).searchParams.get("page");
  }

  function tellPage() {
    if (socket) socket.send(JSON.stringify({ page: currentPage() }));
  }

  document.addEventListener("htmx:wsOpen", function (event) {
    socket = event.detail.socketWrapper;
    if (connectedPage() !== currentPage()) tellPage();
  });
  document.addEventListener("htmx:wsClose", function () { socket = null; });
  document.addEventListener("htmx:pushedIntoHistory", tellPage);
  document.addEventListener("htmx:replacedInHistory", tellPage);
  window.addEventListener("popstate", function () { setTimeout(tellPage, 0); });
})();
