/*
 * Draws every Plotly figure on the page. A chart is an element with `data-figure="<id>"` naming a
 * `json_script` element that holds the figure ({data, layout}); figures are built on the server
 * (portfolio/charts.py). Runs on load and after every htmx swap, so partials bring their charts along.
 * Loaded with the CSP nonce, after plotly-basic.min.js; Plotly needs no eval.
 */
(function () {
  "use strict";

  // No mode bar: its eight buttons per chart crowded the keyboard's tab order (about 176 on a product page) and
  // covered the titles on touch, and nothing may offer to send a figure off this machine (no "share" or "edit in
  // Chart Studio" links, no server URL). Every chart's numbers are in a table beside it or a CSV download.
  var CONFIG = {
    displayModeBar: false,
    displaylogo: false,
    responsive: true,
    showSendToCloud: false,
    showEditInChartStudio: false,
    showLink: false,
    plotlyServerURL: "",
    scrollZoom: false,
  };

  // Charts below the fold are drawn when they come near the viewport: a product page has one per KPI.
  var observer =
    "IntersectionObserver" in window
      ? new IntersectionObserver(
          function (entries) {
            entries.forEach(function (entry) {
              if (entry.isIntersecting) {
                observer.unobserve(entry.target);
                drawOne(entry.target);
              }
            });
          },
          { rootMargin: "300px 0px" }
        )
      : null;

  function drawOne(element) {
    var source = document.getElementById(element.getAttribute("data-figure"));
    if (!source) {
      return;
    }
    var figure;
    try {
      figure = JSON.parse(source.textContent);
    } catch (error) {
      element.textContent = "This chart could not be drawn.";
      return;
    }
    // A figure that sizes itself to its rows (a timeline, a list of bars) gets a container that tall: a fixed
    // container let a 940 px chart spill over the cards below it. Set through the CSSOM, which the CSP allows.
    if (figure.layout && figure.layout.height) {
      element.style.height = figure.layout.height + "px";
    }
    window.Plotly.react(element, figure.data, figure.layout, CONFIG).then(function () {
      element.setAttribute("data-drawn", "true");
    });
  }

  function draw(root) {
    if (typeof window.Plotly === "undefined") {
      return;
    }
    var scope = root && root.querySelectorAll ? root : document;
    var charts = scope.querySelectorAll("[data-figure]");
    if (scope.matches && scope.matches("[data-figure]")) {
      charts = [scope].concat(Array.prototype.slice.call(charts));
    }
    Array.prototype.forEach.call(charts, function (element) {
      if (observer && element.hasAttribute("data-lazy")) {
        observer.observe(element);
      } else {
        drawOne(element);
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    draw(document);
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    draw(event.detail && event.detail.elt);
  });
})();
