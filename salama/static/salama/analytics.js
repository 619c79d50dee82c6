// Renders each chart from its JSON spec (a <script type="application/json"> block) with the
// vendored Vega-Lite. No eval: expressions go through vega-interpreter, so the CSP holds.
// The table and the CSV link beside each chart carry the same numbers without JavaScript.
(function () {
  "use strict";
  function render() {
    if (!window.vegaEmbed || !window.vega) { return; }
    document.querySelectorAll("[data-chart]").forEach(function (box) {
      var source = document.getElementById(box.getAttribute("data-chart"));
      if (!source) { return; }
      var spec = JSON.parse(source.textContent);
      window.vegaEmbed(box, spec, {
        actions: false,
        renderer: "svg",
        ast: true,
        expr: window.vega.expressionInterpreter,
        defaultStyle: false,
        tooltip: false
      }).catch(function (error) {
        box.textContent = box.getAttribute("aria-label") || String(error);
      });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", render);
  } else {
    render();
  }
})();
