/*
 * Filter forms: an htmx request from an element inside (or owned by) a form marked `data-drop-empty`,
 * or from an element carrying that attribute, leaves out empty parameters and sends each name once.
 * The pushed URL then names only the filters in use: `/?stage=mvp`, not `/?q=&portfolio=&stage=mvp&…`.
 * Without JavaScript the plain GET form still works (with empty parameters, which the server ignores).
 */
(function () {
  "use strict";

  function marked(element) {
    if (!element || !element.closest) {
      return false;
    }
    if (element.closest("[data-drop-empty]")) {
      return true;
    }
    return Boolean(element.form && element.form.hasAttribute("data-drop-empty"));
  }

  document.addEventListener("htmx:configRequest", function (event) {
    var detail = event.detail || {};
    if (String(detail.verb).toLowerCase() !== "get" || !marked(detail.elt)) {
      return;
    }
    var parameters = detail.parameters;
    var formData = detail.formData;
    Object.keys(parameters).forEach(function (name) {
      var value = parameters[name];
      var values = Array.isArray(value) ? value : [value];
      var kept = values.filter(function (item) {
        return item !== "" && item !== null && item !== undefined;
      });
      if (formData && typeof formData.delete === "function") {
        formData.delete(name);
        if (kept.length) {
          formData.append(name, kept[kept.length - 1]);
        }
      } else if (!kept.length) {
        delete parameters[name];
      } else {
        parameters[name] = kept[kept.length - 1];
      }
    });
  });
})();
