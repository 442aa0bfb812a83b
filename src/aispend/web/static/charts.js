// Draws the charts whose data the page embeds as JSON (<script type="application/json">).
// The same data fills each chart's accessible table, so the two always agree.
(function () {
  "use strict";
  function data(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }
  var layout = {
    margin: { t: 10, r: 10, b: 40, l: 60 }, barmode: "stack", legend: { orientation: "h" },
    yaxis: { tickprefix: "$", separatethousands: true }, font: { family: "system-ui, sans-serif" }
  };
  var config = { displaylogo: false, responsive: true };
  var daily = data("daily-data");
  if (daily && window.Plotly) {
    var traces = daily.series.map(function (s) {
      return { type: "bar", name: s.label, x: daily.days, y: s.cost_usd.map(Number),
               hovertemplate: "%{x}: $%{y:,.2f}<extra>" + s.label.replace(/</g, "&lt;") + "</extra>" };
    });
    Plotly.newPlot("daily-chart", traces, layout, config).then(function () {
      document.getElementById("daily-chart").setAttribute("data-drawn", "true");
    });
  }
  var explore = data("explore-data");
  if (explore && window.Plotly) {
    var values = explore.cost_usd.map(Number);
    var trace = explore.kind === "time"
      ? { type: "bar", x: explore.labels, y: values, hovertemplate: "%{x}: $%{y:,.2f}<extra></extra>" }
      : { type: "bar", orientation: "h", y: explore.labels.slice().reverse(), x: values.slice().reverse(),
          hovertemplate: "%{y}: $%{x:,.2f}<extra></extra>" };
    var own = Object.assign({}, layout, explore.kind === "time" ? {} : {
      xaxis: { tickprefix: "$", separatethousands: true }, yaxis: { automargin: true },
      height: Math.max(300, 24 * values.length + 80)
    });
    Plotly.newPlot("explore-chart", [trace], own, config).then(function () {
      document.getElementById("explore-chart").setAttribute("data-drawn", "true");
    });
  }
})();
