/*
 * SPM Dashboard page behaviour. Loaded after htmx, both with the CSP nonce and `defer`.
 *
 * 1. htmx configuration: `<meta name="htmx-config">` in base.html is the source of truth (htmx merges
 *    it on DOMContentLoaded); the safety-critical settings are also asserted here so a page that forgets
 *    the meta tag still never evals, never injects a <style> or writes a style attribute the CSP would
 *    block, and never caches pages in localStorage.
 * 2. The CSRF token travels on every htmx request through `hx-headers` on <body>: no JS needed.
 * 3. A failed htmx request (HTTP error, network error, timeout, bad swap) leaves the region as it
 *    was, marks nothing blank, and shows a banner saying what went wrong with Retry / Dismiss.
 * 4. When a session expired, an htmx request is redirected to the login page: load that page
 *    whole instead of swapping a login form into a table.
 * 5. Focus and place after a swap the person asked for: when the control they used went with the swap (focus
 *    fell to <body>), or the page scrolled away from it to the new region,
 *    focus moves into the new region (a field with a problem, else its message, else the first field of a
 *    form it opened, else the region itself) and the region is scrolled into view.
 */
(function () {
  "use strict";

  if (typeof window.htmx === "undefined") {
    return;
  }
  var htmx = window.htmx;

  var SAFE_CONFIG = {
    includeIndicatorStyles: false,
    allowEval: false,
    allowScriptTags: false,
    selfRequestsOnly: true,
    historyCacheSize: 0,
    refreshOnHistoryMiss: true,
    // htmx "settles" a swapped element with the id of an old one by copying these attributes across; copying
    // `style` is an inline-style write the CSP blocks (a textarea the browser resized keeps style="…").
    attributesToSettle: ["class", "width", "height"],
  };

  function applySafeConfig() {
    Object.keys(SAFE_CONFIG).forEach(function (key) {
      htmx.config[key] = SAFE_CONFIG[key];
    });
  }

  // Before htmx's own DOMContentLoaded handler (which reads the meta tag and inserts indicator
  // styles) and again after it, in case the meta tag says otherwise.
  applySafeConfig();
  document.addEventListener("DOMContentLoaded", applySafeConfig);

  // ------------------------------------------------------------------ error banner
  var lastFailed = null;

  function banner() {
    var element = document.getElementById("htmx-error");
    if (element) {
      return element;
    }
    // Pages that do not extend base.html still get a banner.
    element = document.createElement("div");
    element.id = "htmx-error";
    element.className = "error-banner";
    element.setAttribute("role", "alert");
    element.hidden = true;
    element.innerHTML =
      '<div class="error-banner__body"><strong class="error-banner__title"></strong>' +
      '<span class="error-banner__text"></span></div>' +
      '<div class="error-banner__actions">' +
      '<button type="button" class="btn btn--sm" data-error-retry>Retry</button>' +
      '<button type="button" class="btn btn--sm btn--ghost" data-error-dismiss>Dismiss</button></div>';
    document.body.appendChild(element);
    return element;
  }

  function describe(event) {
    var xhr = event.detail && event.detail.xhr;
    var status = xhr ? xhr.status : 0;
    switch (event.type) {
      case "htmx:sendError":
        return ["Can't reach the server.", "Check your connection, then retry."];
      case "htmx:timeout":
        return ["The server took too long to answer.", "Retry in a moment."];
      case "htmx:swapError":
      case "htmx:targetError":
        return ["This part of the page could not be updated.", "Reload the page to see the latest data."];
    }
    if (status === 403) {
      return ["You don't have access to that.", "Ask a director or an admin if you need it."];
    }
    if (status === 404) {
      return ["That item no longer exists.", "It may have been moved or deleted. Reload the page."];
    }
    if (status === 400 || status === 422) {
      return ["The request was not accepted.", "Check the values you entered and try again."];
    }
    if (status === 503) {
      return ["The database is busy or restarting (error 503).", "Nothing was changed. Retry in a few seconds."];
    }
    if (status >= 500) {
      return ["Something went wrong on our side (error " + status + ").", "Retry, or reload the page."];
    }
    return ["The request failed" + (status ? " (error " + status + ")" : "") + ".", "Retry, or reload the page."];
  }

  function showError(event) {
    var element = banner();
    var text = describe(event);
    element.querySelector(".error-banner__title").textContent = text[0];
    element.querySelector(".error-banner__text").textContent = " " + text[1];
    lastFailed = retryableRequest(event);
    var retry = element.querySelector("[data-error-retry]");
    if (retry) {
      retry.hidden = !lastFailed;
    }
    element.hidden = false;
  }

  // Only a GET is repeated on Retry: repeating a POST could save something twice.
  function retryableRequest(event) {
    var detail = event.detail || {};
    var config = detail.requestConfig || {};
    var source = detail.elt;
    var path = (detail.pathInfo && detail.pathInfo.requestPath) || config.path;
    if (!path || !source || !document.contains(source) || String(config.verb).toLowerCase() !== "get") {
      return null;
    }
    return { path: path, source: source, target: detail.target };
  }

  function hideError() {
    var element = document.getElementById("htmx-error");
    if (element) {
      element.hidden = true;
    }
  }

  ["htmx:responseError", "htmx:sendError", "htmx:timeout", "htmx:swapError", "htmx:targetError"].forEach(
    function (name) {
      document.addEventListener(name, showError);
    }
  );

  // A new request clears an old error.
  document.addEventListener("htmx:beforeRequest", hideError);

  document.addEventListener("click", function (event) {
    var target = event.target instanceof Element ? event.target : null;
    if (!target) {
      return;
    }
    if (target.closest("[data-error-dismiss]")) {
      hideError();
    } else if (target.closest("[data-error-retry]")) {
      hideError();
      if (lastFailed && document.contains(lastFailed.source)) {
        // The source's own hx-select, hx-swap and hx-push-url apply again; its form values are re-read.
        htmx.ajax("GET", lastFailed.path, { source: lastFailed.source, target: lastFailed.target });
      } else {
        window.location.reload();
      }
    }
  });

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      hideError();
    }
  });

  // ------------------------------------------------------------------ busy regions
  // The swap target reads as busy to assistive technology (and dims, via CSS) while it loads.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var target = event.detail && event.detail.target;
    if (target) {
      target.setAttribute("aria-busy", "true");
    }
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    var target = event.detail && event.detail.target;
    if (target) {
      target.removeAttribute("aria-busy");
    }
  });

  // After a swap the replaced element is new: clear busy there too.
  document.addEventListener("htmx:afterSettle", function (event) {
    var target = event.detail && event.detail.target;
    if (target && target.removeAttribute) {
      target.removeAttribute("aria-busy");
    }
  });

  // ------------------------------------------------------------------ expired sessions
  document.addEventListener("htmx:beforeSwap", function (event) {
    var loginUrl = document.body.getAttribute("data-login-url");
    var xhr = event.detail && event.detail.xhr;
    if (!loginUrl || !xhr || !xhr.responseURL) {
      return;
    }
    var landed = new URL(xhr.responseURL, window.location.href);
    if (landed.pathname === loginUrl && window.location.pathname !== loginUrl) {
      event.detail.shouldSwap = false;
      var next = window.location.pathname + window.location.search;
      window.location.assign(loginUrl + "?next=" + encodeURIComponent(next));
    }
  });

  // ------------------------------------------------------------------ focus and place after a swap

  var FORM_FIELDS =
    "form input:not([type=hidden]):not([disabled]), form select:not([disabled]), form textarea:not([disabled])";

  function focusTarget(region) {
    return (
      region.querySelector("[aria-invalid='true']") ||
      region.querySelector(".errorlist, [role='alert'], [role='status'], .messages li, .form-message") ||
      region.querySelector(FORM_FIELDS) ||
      region
    );
  }

  function scrollsToRegion(trigger) {
    // hx-swap "… show:#region:top": htmx scrolls the page to the new region, away from the control used.
    var spec = trigger && trigger.closest ? trigger.closest("[hx-swap]") : null;
    return Boolean(spec && /\bshow:/.test(spec.getAttribute("hx-swap")));
  }

  document.addEventListener("htmx:afterSettle", function (event) {
    var detail = event.detail || {};
    var trigger = detail.requestConfig ? detail.requestConfig.elt : null; // the control the person used
    var target = detail.target;
    // An outerHTML swap leaves the old element detached: the new one carries its id. (Not a variable shared
    // between requests: two swaps may interleave, a line's save and the summary it triggers.)
    var region = target && document.contains(target) ? target : null;
    if (!region && target && target.id) {
      region = document.getElementById(target.id);
    }
    if (trigger && region && trigger.id && trigger.id === region.id) {
      return; // a region that refreshed itself (an event from elsewhere, a poll, coming into view): focus stays
    }
    var active = document.activeElement;
    if (active && active !== document.body && document.contains(active)) {
      // The person's place is still there (a filter they typed in, a field htmx autofocused): it stays, unless
      // the page scrolled away from it to the new region (a scorecard cell's drill-down further down).
      if (!region || region === document.body || region.contains(active) || !scrollsToRegion(trigger)) {
        return;
      }
    }
    if (!region || region === document.body) {
      return;
    }
    var element = focusTarget(region);
    if (!element.matches("a[href], button, input, select, textarea, [tabindex]")) {
      element.setAttribute("tabindex", "-1");
    }
    element.focus({ preventScroll: true });
    var box = region.getBoundingClientRect();
    if (box.top < 0 || box.top > window.innerHeight - 40) {
      region.scrollIntoView({ block: "start" });
    }
    var place = element.getBoundingClientRect();
    if (place.top < 0 || place.bottom > window.innerHeight) {
      element.scrollIntoView({ block: "center" });
    }
  });
})();
