// Gantt: hovering (or focusing) a task run highlights what it waited for and what waited for it.
(function () {
  "use strict";
  var marked = [];

  function clear(gantt) {
    marked.forEach(function (el) { el.classList.remove("is-focus", "is-upstream", "is-downstream"); });
    marked = [];
    if (gantt) gantt.classList.remove("has-focus");
  }

  function mark(el, cls) {
    if (el) { el.classList.add(cls); marked.push(el); }
  }

  function focusRow(row) {
    var gantt = row.closest(".gantt");
    clear(gantt);
    var id = row.id.replace(/^task-run-/, "");
    gantt.classList.add("has-focus");
    mark(row, "is-focus");
    (row.getAttribute("data-upstream") || "").split(" ").forEach(function (up) {
      if (up) mark(document.getElementById("task-run-" + up), "is-upstream");
    });
    gantt.querySelectorAll('.gantt-row[data-upstream~="' + id + '"]').forEach(function (down) {
      mark(down, "is-downstream");
    });
  }

  function rowOf(event) {
    return event.target.closest && event.target.closest(".gantt-row");
  }

  document.addEventListener("mouseover", function (event) {
    var row = rowOf(event);
    if (row && !row.classList.contains("is-focus")) focusRow(row);
  });
  document.addEventListener("focusin", function (event) {
    var row = rowOf(event);
    if (row) focusRow(row);
  });
  document.addEventListener("mouseout", function (event) {
    var row = rowOf(event);
    if (row && !(event.relatedTarget && row.closest(".gantt").contains(event.relatedTarget))) clear(row.closest(".gantt"));
  });
})();
