// Filter forms: leave empty fields out of the URL, so bookmarks read `?state=FAILED`, not `?state=FAILED&flow=&tag=`.
(function () {
  "use strict";
  document.addEventListener("htmx:configRequest", function (event) {
    var form = event.detail.elt;
    if (!form.matches || !form.matches("form.filters, form.log-filters")) return;
    var parameters = event.detail.parameters;
    var names = [];
    if (parameters.keys) {
      for (var name of parameters.keys()) names.push(name);
    } else {
      names = Object.keys(parameters);
    }
    names.forEach(function (name) {
      var value = parameters.getAll ? parameters.getAll(name) : [parameters[name]];
      if (value.every(function (v) { return v === "" || v === undefined || v === null; })) {
        parameters.delete ? parameters.delete(name) : delete parameters[name];
      }
    });
  });
})();

// htmx restores history from a snapshot of the DOM's markup; write the form's live state into it first.
document.addEventListener("htmx:beforeHistorySave", function () {
  "use strict";
  document.querySelectorAll("form.filters input, form.log-filters input").forEach(function (input) {
    if (input.type === "checkbox" || input.type === "radio") input.toggleAttribute("checked", input.checked);
    else input.setAttribute("value", input.value);
  });
  document.querySelectorAll("form.filters option, form.log-filters option").forEach(function (option) {
    option.toggleAttribute("selected", option.selected);
  });
});
