/* Draws the Mermaid diagrams of the dashboard's diagram page with the vendored
   mermaid.min.js (11.17.2). Each <pre data-mermaid="ID"> holds a diagram's text; its SVG goes
   into the element with that id, and the text moves into a <details> below it. Without
   JavaScript (or if drawing fails) the text simply stays where it is. No inline script:
   the page's CSP allows scripts from our own origin only. */
(function () {
  "use strict";
  var mermaid = window.mermaid;
  if (!mermaid) {
    return;
  }
  // Drawn at their natural size (16px text): a wide diagram scrolls sideways in its box
  // rather than shrinking its text to an unreadable size.
  mermaid.initialize({
    startOnLoad: false,
    securityLevel: "strict",
    theme: "neutral",
    fontSize: 16,
    flowchart: { useMaxWidth: false, wrappingWidth: 220 },
    state: { useMaxWidth: false }
  });
  var sources = document.querySelectorAll("pre[data-mermaid]");
  Array.prototype.forEach.call(sources, function (pre, i) {
    var target = document.getElementById(pre.getAttribute("data-mermaid"));
    if (!target) {
      return;
    }
    mermaid
      .render("mermaid-svg-" + i, pre.textContent)
      .then(function (result) {
        target.innerHTML = result.svg;
        var svg = target.querySelector("svg");
        if (svg) {
          svg.setAttribute("role", "img");
          svg.setAttribute("aria-label", pre.getAttribute("data-label") || "");
        }
        var details = document.createElement("details");
        var summary = document.createElement("summary");
        summary.textContent = pre.getAttribute("data-summary") || "Mermaid";
        details.appendChild(summary);
        pre.parentNode.insertBefore(details, pre);
        details.appendChild(pre);
        target.setAttribute("data-rendered", "true");
      })
      .catch(function () {
        target.setAttribute("data-rendered", "failed");
      });
  });
})();
