/// The admin listener's `/` page: the clock gate, the error bound, every source, the counters, and a chart of
/// offset and bound over the last hour that refreshes itself. One self-contained document (no external assets:
/// the admin listener may run where nothing else is reachable), readable on a phone.
enum StatusPage {
    static let html = #"""
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>Sigillum status</title>
        <style>
          :root { font-family: system-ui, sans-serif; color: #1d2430; background: #f5f6f8; }
          body { margin: 0; padding: 1rem; max-width: 60rem; margin-inline: auto; }
          h1 { font-size: 1.3rem; margin: 0 0 .8rem; }
          h2 { font-size: 1rem; margin: 1.2rem 0 .5rem; }
          .cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(11rem, 1fr)); gap: .6rem; }
          .card { background: #fff; border-radius: .5rem; padding: .7rem .8rem; box-shadow: 0 1px 2px #0002; }
          .card .label { font-size: .75rem; color: #5b6472; text-transform: uppercase; letter-spacing: .04em; }
          .card .value { font-size: 1.25rem; font-weight: 600; margin-top: .2rem; overflow-wrap: anywhere; }
          .open { color: #11783a; } .closed { color: #b3261e; } .disabled { color: #8a5a00; }
          #reason { margin-top: .6rem; color: #5b6472; font-size: .9rem; overflow-wrap: anywhere; }
          .chart { background: #fff; border-radius: .5rem; padding: .5rem; box-shadow: 0 1px 2px #0002; }
          svg { width: 100%; height: auto; display: block; }
          .legend { font-size: .8rem; color: #5b6472; margin: .3rem .2rem 0; }
          .legend span { display: inline-block; margin-right: 1rem; }
          .swatch { display: inline-block; width: .8rem; height: .8rem; vertical-align: middle; margin-right: .3rem; }
          .table-wrap { overflow-x: auto; background: #fff; border-radius: .5rem; box-shadow: 0 1px 2px #0002; }
          table { border-collapse: collapse; width: 100%; font-size: .85rem; }
          th, td { text-align: left; padding: .4rem .6rem; border-bottom: 1px solid #e4e6ea; white-space: nowrap; }
          th { color: #5b6472; font-weight: 600; }
          footer { margin-top: 1rem; font-size: .75rem; color: #5b6472; }
        </style>
        </head>
        <body>
        <h1>Sigillum — clock and service status</h1>
        <div class="cards">
          <div class="card"><div class="label">Clock gate</div><div class="value" id="gate">…</div></div>
          <div class="card"><div class="label">Error bound</div><div class="value" id="bound">…</div></div>
          <div class="card"><div class="label">Offset (UTC − local)</div><div class="value" id="offset">…</div></div>
          <div class="card"><div class="label">Agreeing servers</div><div class="value" id="agreeing">…</div></div>
          <div class="card"><div class="label">Tokens issued</div><div class="value" id="granted">…</div></div>
          <div class="card"><div class="label">Refused for time</div><div class="value" id="refused">…</div></div>
        </div>
        <div id="reason"></div>
        <h2>Offset and error bound, last hour</h2>
        <div class="chart">
          <svg id="drift-chart" viewBox="0 0 800 260" role="img" aria-label="clock offset and error bound"
               data-point-count="0"></svg>
          <div class="legend">
            <span><i class="swatch" style="background:#2f6fdb"></i>offset</span>
            <span><i class="swatch" style="background:#2f6fdb33"></i>± error bound</span>
            <span><i class="swatch" style="background:#b3261e33"></i>gate closed</span>
          </div>
        </div>
        <h2>Sources</h2>
        <div class="table-wrap"><table>
          <thead><tr><th>Source</th><th>Offset</th><th>Delay</th><th>Bound</th><th>Stratum</th><th>Agrees</th><th>Note</th></tr></thead>
          <tbody id="sources"></tbody>
        </table></div>
        <footer id="footer">Refreshes every 5 s.</footer>
        <script>
        "use strict";
        const $ = (id) => document.getElementById(id);
        function duration(seconds) {
          if (seconds === null || seconds === undefined) return "—";
          const a = Math.abs(seconds);
          if (a < 1e-3) return (seconds * 1e6).toFixed(1) + " µs";
          if (a < 1) return (seconds * 1e3).toFixed(3) + " ms";
          return seconds.toFixed(3) + " s";
        }
        function text(node, value) { node.textContent = value; }
        function cell(row, value) { const td = document.createElement("td"); td.textContent = value; row.appendChild(td); }
        function svgNode(name, attributes) {
          const node = document.createElementNS("http://www.w3.org/2000/svg", name);
          for (const key in attributes) node.setAttribute(key, attributes[key]);
          return node;
        }
        function renderStatus(status) {
          const clock = status.clock;
          if (clock) {
            const gate = $("gate");
            const state = !clock.gate.enforced ? "disabled" : (clock.gate.open ? "open" : "closed");
            text(gate, state);
            gate.className = "value " + state;
            text($("bound"), duration(clock.boundSeconds) + " / max " + duration(clock.maximumBoundSeconds));
            text($("offset"), duration(clock.offsetSeconds));
            text($("agreeing"), clock.configuredServers === 0 ? "no servers" :
              clock.agreeing + " of " + clock.configuredServers + " (need " + clock.requiredAgreement + ")");
            const notes = [];
            if (clock.gate.reason) notes.push(clock.gate.reason);
            if (clock.leap.announced !== "none") notes.push("leap second " + clock.leap.announced + " at " + clock.leap.at);
            text($("reason"), notes.join(" · "));
            const body = $("sources");
            body.replaceChildren();
            const kernel = clock.kernel;
            const kernelRow = document.createElement("tr");
            cell(kernelRow, "kernel (adjtimex)");
            cell(kernelRow, duration(kernel.offsetSeconds));
            cell(kernelRow, "—");
            cell(kernelRow, duration(kernel.maxErrorSeconds));
            cell(kernelRow, "—");
            cell(kernelRow, kernel.counted ? "counted" : "reported only");
            cell(kernelRow, kernel.error || (kernel.synchronized ? kernel.state : "STA_UNSYNC, " + kernel.state));
            body.appendChild(kernelRow);
            if (clock.chrony) {
              const c = clock.chrony;
              const row = document.createElement("tr");
              cell(row, "chrony" + (c.reference ? " → " + c.reference : ""));
              cell(row, duration(c.offsetSeconds));
              cell(row, duration(c.rootDelaySeconds));
              cell(row, duration(c.boundSeconds));
              cell(row, c.stratum === undefined || c.stratum === null ? "—" : String(c.stratum));
              cell(row, c.counted ? "counted" : "reported only");
              cell(row, c.error || (c.synchronized ? "synchronised" : "not synchronised"));
              body.appendChild(row);
            }
            for (const source of clock.sources) {
              const row = document.createElement("tr");
              cell(row, source.name);
              cell(row, duration(source.offsetSeconds));
              cell(row, duration(source.delaySeconds));
              cell(row, duration(source.boundSeconds));
              cell(row, source.stratum === undefined || source.stratum === null ? "—" : String(source.stratum));
              cell(row, source.agrees ? "yes" : "no");
              cell(row, source.error || (source.referenceID ? "ref " + source.referenceID : ""));
              body.appendChild(row);
            }
          }
          if (status.tsa) {
            text($("granted"), String(status.tsa.counts.granted));
            text($("refused"), String(status.tsa.counts.refusedForTime));
          } else {
            text($("granted"), "TSA off");
            text($("refused"), "—");
          }
          text($("footer"), "Sigillum " + status.version + " · refreshed " + new Date().toISOString() + " · refreshes every 5 s");
        }
        function renderChart(points) {
          const svg = $("drift-chart");
          svg.replaceChildren();
          const width = 800, height = 260, left = 70, right = 10, top = 10, bottom = 30;
          const now = Date.now();
          const start = now - 3600 * 1000;
          const shown = points.filter((p) => p.t >= start);
          svg.setAttribute("data-point-count", String(shown.length));
          let scale = 1e-3;
          for (const p of shown) {
            scale = Math.max(scale, Math.abs(p.offsetSeconds || 0) + (p.boundSeconds || 0));
          }
          scale *= 1.1;
          const x = (t) => left + (t - start) / (3600 * 1000) * (width - left - right);
          const y = (v) => top + (1 - (v + scale) / (2 * scale)) * (height - top - bottom);
          svg.appendChild(svgNode("rect", { x: left, y: top, width: width - left - right, height: height - top - bottom, fill: "#fafbfc", stroke: "#d8dbe0" }));
          for (const v of [-scale, -scale / 2, 0, scale / 2, scale]) {
            svg.appendChild(svgNode("line", { x1: left, x2: width - right, y1: y(v), y2: y(v), stroke: "#e4e6ea" }));
            const label = svgNode("text", { x: left - 6, y: y(v) + 4, "text-anchor": "end", "font-size": 11, fill: "#5b6472" });
            label.textContent = duration(v);
            svg.appendChild(label);
          }
          for (const minutes of [60, 45, 30, 15, 0]) {
            const label = svgNode("text", { x: x(now - minutes * 60000), y: height - 10, "text-anchor": "middle", "font-size": 11, fill: "#5b6472" });
            label.textContent = minutes === 0 ? "now" : "−" + minutes + " min";
            svg.appendChild(label);
          }
          const step = shown.length > 1 ? (x(shown[shown.length - 1].t) - x(shown[0].t)) / (shown.length - 1) : 4;
          for (const p of shown) {
            if (!p.open) {
              svg.appendChild(svgNode("rect", { class: "closed-span", x: x(p.t) - step / 2, y: top, width: Math.max(step, 1), height: height - top - bottom, fill: "#b3261e22" }));
            }
          }
          const measured = shown.filter((p) => p.offsetSeconds !== null && p.offsetSeconds !== undefined);
          const bounded = measured.filter((p) => p.boundSeconds !== null && p.boundSeconds !== undefined);
          if (bounded.length > 0) {
            const upper = bounded.map((p) => x(p.t) + "," + y(p.offsetSeconds + p.boundSeconds));
            const lower = bounded.slice().reverse().map((p) => x(p.t) + "," + y(p.offsetSeconds - p.boundSeconds));
            svg.appendChild(svgNode("polygon", { id: "bound-band", points: upper.concat(lower).join(" "), fill: "#2f6fdb33" }));
          }
          if (measured.length > 0) {
            svg.appendChild(svgNode("polyline", { id: "offset-line", points: measured.map((p) => x(p.t) + "," + y(p.offsetSeconds)).join(" "), fill: "none", stroke: "#2f6fdb", "stroke-width": 1.5 }));
            for (const p of measured.slice(-240)) {
              svg.appendChild(svgNode("circle", { class: "point", cx: x(p.t), cy: y(p.offsetSeconds), r: 2, fill: "#2f6fdb", "data-offset": p.offsetSeconds, "data-bound": p.boundSeconds === undefined ? "" : p.boundSeconds }));
            }
          }
        }
        async function refresh() {
          try {
            const [status, history] = await Promise.all([
              fetch("status", { cache: "no-store" }).then((r) => r.json()),
              fetch("status/clock-history", { cache: "no-store" }).then((r) => r.json()),
            ]);
            renderStatus(status);
            renderChart(history.points);
          } catch (error) {
            text($("reason"), "cannot reach the admin listener: " + error);
          }
        }
        refresh();
        setInterval(refresh, 5000);
        </script>
        </body>
        </html>
        """#
}
