// Task runs: "Select page" ticks every row's box; "All matching" makes the ticked rows irrelevant.
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.id === "select-page") {
      document.querySelectorAll('#task-runs-body input[name="ids"]').forEach(function (box) { box.checked = target.checked; });
    }
    if (target.name === "all_matching") {
      document.getElementById("retry-selection").classList.toggle("all-matching-on", target.checked);
    }
  });
})();
