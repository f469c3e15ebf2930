const NS = "http://www.w3.org/2000/svg";
const SIZE = { population: [176, 56], encoder: [176, 56], monitor: [150, 46] };
const GROUPS = [["population", "Populations"], ["encoder", "Inputs"], ["monitor", "Monitors"]];
const COLUMN_X = { encoder: 0, population: 280, monitor: 560 };

// Bokeh may deliver dicts as Map objects; draw from plain copies.
function plain(v) {
  if (v instanceof Map) {
    const o = {};
    for (const [k, x] of v) o[k] = plain(x);
    return o;
  }
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === "object") {
    const o = {};
    for (const k of Object.keys(v)) o[k] = plain(v[k]);
    return o;
  }
  return v;
}

function svgEl(tag, attrs, parent) {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
  if (parent) parent.appendChild(e);
  return e;
}

function htmlEl(tag, cls, parent, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text != null) e.textContent = text;
  if (parent) parent.appendChild(e);
  return e;
}

// A node's short label: its model's palette item's (from the engine's registry), else the
// model name, capitalised.
function shortModel(m, item) {
  if (!m) return "";
  if (item && item.label) return item.label;
  const s = String(m).replace(/_/g, " ");
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function formatSize(n) {
  const v = Number(n);
  if (!Number.isFinite(v)) return "";
  return v >= 10000 ? v.toLocaleString("en-US") : String(v);
}

function clip(text, px, charPx) {
  const max = Math.max(3, Math.floor(px / charPx));
  return text.length > max ? text.slice(0, max - 1) + "\u2026" : text;
}

function bezierPoint(p0, c1, c2, p3, t) {
  const u = 1 - t;
  const a = u * u * u, b = 3 * u * u * t, c = 3 * u * t * t, d = t * t * t;
  return [a * p0[0] + b * c1[0] + c * c2[0] + d * p3[0],
          a * p0[1] + b * c1[1] + c * c2[1] + d * p3[1]];
}

// Activity colours (pale to dark red) for a rate as a fraction of the run's highest rate. The
// square root spreads low rates, which most populations have next to a fast input.
const HEAT = [[255, 247, 236], [253, 212, 158], [252, 141, 89], [215, 48, 31], [127, 0, 0]];

function heat(fraction) {
  const x = Math.sqrt(Math.min(Math.max(fraction, 0), 1)) * (HEAT.length - 1);
  const i = Math.min(Math.floor(x), HEAT.length - 2), f = x - i;
  return HEAT[i].map((v, k) => Math.round(v + (HEAT[i + 1][k] - v) * f));
}

function cssRgb(c) {
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

// WCAG relative luminance of an sRGB colour [r, g, b] (0..255).
function luminance(rgb) {
  const [r, g, b] = rgb.map((v) => {
    const c = v / 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

// Text on a tint is black or white (graph_editor.css, .ss-active), as luminances: with pure
// black the worse of the two best choices, where the tint is mid-way, still has a WCAG
// contrast ratio of 4.58 (the --text grey would leave 3.9 there).
const DARK_TEXT = 0, WHITE = 1;

// True when white text reads better than black on a tint (the higher WCAG contrast ratio):
// the text colour follows the tint's luminance, not its place on the scale.
function lightTextOn(rgb) {
  const l = luminance(rgb);
  return (WHITE + 0.05) / (l + 0.05) > (l + 0.05) / (DARK_TEXT + 0.05);
}

function formatRate(hz) {
  if (hz >= 100) return `${Math.round(hz)} Hz`;
  if (hz >= 10) return `${hz.toFixed(1)} Hz`;
  return `${hz.toFixed(2)} Hz`;
}

function formatMs(ms) {
  return ms >= 1000 ? `${(ms / 1000).toFixed(3)} s` : `${ms.toFixed(1)} ms`;
}

function isTextEntry(node) {
  if (!node || node.nodeType !== 1) return false;
  if (node.isContentEditable) return true;
  const tag = node.tagName;
  if (tag === "TEXTAREA" || tag === "SELECT") return true;
  if (tag !== "INPUT") return false;
  const type = (node.type || "text").toLowerCase();
  return !["button", "checkbox", "radio", "range", "submit", "reset", "color", "file"]
    .includes(type);
}

export function render({ model, el }) {
  const root = htmlEl("div", "ss-ge");
  root.tabIndex = 0;
  root.setAttribute("data-testid", "graph-editor");
  const paletteEl = htmlEl("div", "ss-ge-palette", root);
  paletteEl.setAttribute("data-testid", "palette");
  const main = htmlEl("div", "ss-ge-main", root);
  const canvas = htmlEl("div", "ss-ge-canvas", main);
  const svg = svgEl("svg", { class: "ss-ge-svg" }, canvas);
  const viewport = svgEl("g", { class: "ss-viewport" }, svg);
  const linksG = svgEl("g", { class: "ss-monlinks" }, viewport);
  const edgesG = svgEl("g", { class: "ss-edges" }, viewport);
  const nodesG = svgEl("g", { class: "ss-nodes" }, viewport);
  const ghost = svgEl("path", { class: "ss-ghost", d: "" }, viewport);
  const empty = htmlEl("div", "ss-ge-empty", main);
  htmlEl("b", null, empty, "Empty network");
  htmlEl("span", null, empty,
    "Add a population or an input from the palette, then drag from a node's \u25CF handle " +
    "onto another node to connect them.");
  const help = htmlEl("div", "ss-ge-help", main,
    "Drag \u25CF (or Shift-drag a node) to connect \u00B7 Del deletes \u00B7 " +
    "Ctrl+Z / Ctrl+Shift+Z undo / redo \u00B7 wheel zooms");
  const zoomLabel = htmlEl("div", "ss-ge-zoom", main);
  // Activity at the time cursor: what the tints mean, at which time.
  const legend = htmlEl("div", "ss-ge-activity", main);
  legend.setAttribute("data-testid", "activity-legend");
  const legendText = htmlEl("div", "ss-ge-activity-text", legend);
  const legendBar = htmlEl("div", "ss-ge-activity-bar", legend);
  const legendTicks = htmlEl("div", "ss-ge-activity-ticks", legend);
  legendBar.style.background = `linear-gradient(to right, ${
    [0, 0.0625, 0.25, 0.5625, 1].map((f) => cssRgb(heat(f))).join(", ")})`;

  const tools = htmlEl("div", "ss-ge-tools", main);
  const tool = (text, testid, title, cls) => {
    const b = htmlEl("button", "ss-ge-tool" + (cls ? " " + cls : ""), tools, text);
    b.type = "button";
    b.title = title;
    b.setAttribute("data-testid", testid);
    return b;
  };
  const zoomOutBtn = tool("\u2212", "zoom-out", "Zoom out");
  const zoomInBtn = tool("+", "zoom-in", "Zoom in");
  const fitBtn = tool("Fit", "fit-view", "Fit the whole network into view (F)");
  htmlEl("div", "ss-ge-sep", tools);
  const deleteBtn = tool("Delete", "delete-selection", "Delete the selection (Del)", "danger");

  // View transform: screen = graph * k + (x, y). Purely local, never sent to Python.
  const view = { x: 40, y: 40, k: 1 };
  let fitted = false;
  let gesture = null;
  // Positions of nodes dragged locally, kept until Python sends new positions.
  let overrides = {};
  let overrideTimer = null;
  let data = null;
  // Activity of the shown run (model.activity) and the cursor time it is shown at.
  let activity = null;
  let cursor = { t: 0, playing: false };
  let shownFrame = -1;
  const nodeEls = new Map();  // node id -> {g, body, rate, title, text}
  const edgeEls = new Map();  // edge id -> {g, pulse, title, text}

  const send = (msg) => model.send_msg(msg);
  const canvasSize = () => [canvas.clientWidth, canvas.clientHeight];

  function readData() {
    const nodes = (plain(model.nodes) || []).filter((n) => n && n.id != null);
    const edges = (plain(model.edges) || []).filter((e) => e && e.id != null);
    const given = plain(model.positions) || {};
    const pos = {};
    for (const n of nodes) {
      const p = overrides[n.id] || given[n.id];
      if (Array.isArray(p) && p.length >= 2 && Number.isFinite(+p[0]) && Number.isFinite(+p[1])) {
        pos[n.id] = [+p[0], +p[1]];
      }
    }
    // Nodes without a stored position get a free slot (not sent back): in their kind's
    // column, monitors beside the population they record. Monitors go last for that reason.
    const unplaced = nodes.filter((n) => !pos[n.id]);
    unplaced.sort((a, b) => (a.kind === "monitor") - (b.kind === "monitor"));
    for (const n of unplaced) {
      const anchor = n.kind === "monitor" && pos[n.target];
      const col = anchor ? anchor[0] + 260 : (COLUMN_X[n.kind] ?? 280);
      let y = anchor ? anchor[1] : 0;
      const clash = () => Object.values(pos).some((p) => Math.abs(p[0] - col) < 190 &&
                                                          Math.abs(p[1] - y) < 80);
      while (clash()) y += 90;
      pos[n.id] = [col, y];
    }
    return {
      nodes, edges, pos,
      byId: Object.fromEntries(nodes.map((n) => [n.id, n])),
      selection: plain(model.selection) || {},
      problems: plain(model.problems) || {},
      palette: (plain(model.palette) || []).filter((p) => p && p.kind && p.model),
    };
  }

  // The palette item of a node's model (label and colour), if the palette offers it.
  function itemOf(n) {
    return data.palette.find((p) => p.kind === n.kind && p.model === n.model);
  }

  function nodeSize(n) { return SIZE[n.kind] || SIZE.population; }

  function applyView() {
    viewport.setAttribute("transform", `translate(${view.x},${view.y}) scale(${view.k})`);
    const g = 22 * view.k;
    canvas.style.backgroundSize = `${g}px ${g}px`;
    canvas.style.backgroundPosition = `${view.x}px ${view.y}px`;
    zoomLabel.textContent = `${Math.round(view.k * 100)}%`;
  }

  function toGraph(clientX, clientY) {
    const r = svg.getBoundingClientRect();
    return [(clientX - r.left - view.x) / view.k, (clientY - r.top - view.y) / view.k];
  }

  function fit() {
    if (!data) return;
    const [W, H] = canvasSize();
    if (!W || !H) return;
    if (!data.nodes.length) {
      view.k = 1; view.x = W / 2 - 280; view.y = H / 2;
      applyView();
      return;
    }
    let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
    for (const n of data.nodes) {
      const [x, y] = data.pos[n.id];
      const [w, h] = nodeSize(n);
      x0 = Math.min(x0, x - w / 2); x1 = Math.max(x1, x + w / 2 + 10);
      y0 = Math.min(y0, y - h / 2 - 10); y1 = Math.max(y1, y + h / 2 + 10);
    }
    const pad = 48;
    const k = Math.min((W - 2 * pad) / (x1 - x0), (H - 2 * pad - 30) / (y1 - y0), 1);
    view.k = Math.max(0.2, k);
    view.x = (W - (x1 - x0) * view.k) / 2 - x0 * view.k;
    view.y = (H - (y1 - y0) * view.k) / 2 - y0 * view.k;
    applyView();
  }

  function zoomAt(factor, sx, sy) {
    const k = Math.min(3, Math.max(0.2, view.k * factor));
    view.x = sx - (sx - view.x) * (k / view.k);
    view.y = sy - (sy - view.y) * (k / view.k);
    view.k = k;
    applyView();
  }

  // ------------------------------------------------------------------ drawing
  function drawPalette() {
    paletteEl.replaceChildren();
    for (const [kind, title] of GROUPS) {
      const items = data.palette.filter((p) => p.kind === kind);
      if (!items.length) continue;
      htmlEl("div", "ss-ge-group", paletteEl, title);
      for (const item of items) {
        const b = htmlEl("button", "ss-ge-pal-btn", paletteEl);
        b.type = "button";
        b.setAttribute("data-testid", `palette-${item.kind}-${item.model}`);
        b.title = `Add: ${item.title || item.model} (click, or drag onto the canvas)`;
        const swatch = htmlEl("span", `ss-ge-swatch ${kind}`, b);
        if (item.color) swatch.style.background = item.color;
        htmlEl("span", null, b, item.title || shortModel(item.model, item));
        b.addEventListener("pointerdown", (e) => startPaletteDrag(e, item));
        b.addEventListener("click", () => {
          if (b._dragged) { b._dragged = false; return; }
          addAtCentre(item);
        });
      }
    }
  }

  function drawNode(n) {
    const [x, y] = data.pos[n.id];
    const [w, h] = nodeSize(n);
    const sel = data.selection.type === "node" && data.selection.id === n.id;
    const problem = data.problems[n.id];
    const g = svgEl("g", {
      class: `ss-node ${n.kind}` + (sel ? " selected" : "") + (problem ? " problem" : ""),
      "data-node-id": n.id, "data-kind": n.kind,
      transform: `translate(${x - w / 2},${y - h / 2})`,
    }, nodesG);
    if (problem) g.setAttribute("data-problem", problem);
    const item = itemOf(n);
    // The model's colour, where the registry gives one, replaces the kind's (CSS variables).
    const colorVar = { population: "--pop", encoder: "--enc", monitor: "--mon" }[n.kind];
    if (item && item.color && colorVar) g.style.setProperty(colorVar, item.color);
    const label = n.label || n.id;
    const t = svgEl("title", {}, g);
    const what = n.kind === "monitor"
      ? `Monitor (${n.model || "state"}) of ${n.target || "\u2014"}`
      : `${n.kind} \u00B7 ${n.model} \u00B7 ${n.size ?? "?"} neurons`;
    t.textContent = (problem ? `\u26A0 ${problem}\n` : "") + `${label} \u2014 ${what}`;
    if (n.kind === "encoder") {
      const r = 9, tip = 16;
      svgEl("path", { class: "body", d: `M${r},0 H${w - tip} L${w},${h / 2} L${w - tip},${h} ` +
        `H${r} Q0,${h} 0,${h - r} V${r} Q0,0 ${r},0 Z` }, g);
    } else if (n.kind === "monitor") {
      svgEl("rect", { class: "body", width: w, height: h, rx: h / 2 }, g);
    } else {
      svgEl("rect", { class: "body", width: w, height: h, rx: 9 }, g);
      svgEl("rect", { class: "accent", x: 0, y: 9, width: 4, height: h - 18, rx: 2 }, g);
    }
    const left = n.kind === "monitor" ? 20 : 16;
    const textW = w - left - (n.kind === "encoder" ? 30 : 20);
    const title = svgEl("text", { class: "title", x: left, y: h / 2 - 4 }, g);
    title.textContent = clip(label, textW, 7.4);
    let badge;
    if (n.kind === "monitor") {
      badge = `${shortModel(n.model || "state", item)} \u2192 ${n.target || "?"}`;
    } else badge = `${shortModel(n.model, item)} \u00B7 ${formatSize(n.size)}`;
    const b = svgEl("text", { class: "badge", x: left, y: h / 2 + 13 }, g);
    // Room on the right of the badge's line for the rate at the time cursor.
    b.textContent = clip(badge, n.kind === "monitor" ? textW : textW - 46, 6.4);
    if (n.kind !== "encoder") svgEl("circle", { class: "port-in", cx: 0, cy: h / 2, r: 3.5 }, g);
    if (n.kind !== "monitor") {
      const hx = n.kind === "encoder" ? w + 2 : w;
      const hd = svgEl("circle", { class: "ss-handle", "data-handle": "out", cx: hx, cy: h / 2,
                                   r: 6 }, g);
      svgEl("title", {}, hd).textContent = "Drag onto another node to connect";
    }
    if (problem) {
      svgEl("circle", { class: "warn", cx: w - 8, cy: 0, r: 8 }, g);
      svgEl("text", { class: "warn-text", x: w - 8, y: 4, "text-anchor": "middle" }, g)
        .textContent = "!";
    }
    if (n.kind !== "monitor") {
      const rate = svgEl("text", { class: "ss-rate", x: w - (n.kind === "encoder" ? 22 : 10),
                                   y: h / 2 + 13, "text-anchor": "end" }, g);
      nodeEls.set(n.id, { g, body: g.querySelector(".body"), rate, title: t,
                          text: t.textContent });
    }
  }

  function curve(a, b, offset, self) {
    // Plain right-to-left curve (the ghost line while connecting).
    if (self) {
      const c1 = [a[0] + 70, a[1] - 80 - offset], c2 = [b[0] - 70, b[1] - 80 - offset];
      return [a, c1, c2, b];
    }
    const dx = Math.max(50, Math.abs(b[0] - a[0]) * 0.5);
    return [a, [a[0] + dx, a[1] + offset], [b[0] - dx, b[1] + offset], b];
  }

  // Route an edge between two nodes: left-to-right when the target lies to the right or on
  // the same row, otherwise top/bottom so stacked nodes do not get lines through them.
  // `lane` separates an edge from its reverse twin; `offset` fans out parallel edges; `gap`
  // leaves room for the head. Returns the cubic and the unit direction at the target.
  function route(s, t, lane, offset, gap) {
    const [sx, sy] = data.pos[s.id], [tx, ty] = data.pos[t.id];
    const [ws, hs] = nodeSize(s), [wt, ht] = nodeSize(t);
    const sOut = s.kind === "encoder" ? 2 : 0;
    if (s === t) {
      // Recurrent projection: a loop above the node, out of its top right, into its top left,
      // so it never crowds the input port on the left.
      const top = sy - hs / 2, o = 22 * Math.sign(offset) * Math.ceil(Math.abs(offset) / 22);
      const a = [sx + ws / 4, top], b = [sx - ws / 4, top - gap];
      const h = 70 + Math.abs(o);
      return { c: [a, [a[0] + 40, top - h], [b[0] - 40, top - h], b],
               dir: (() => { const d = [40, h - gap], L = Math.hypot(d[0], d[1]);
                             return [d[0] / L, d[1] / L]; })() };
    }
    const dx = tx - sx, dy = ty - sy;
    const horizontal = dx > 0.75 * (ws + wt) / 2 || Math.abs(dy) < (hs + ht) / 2 + 24;
    if (horizontal) {
      const a = [sx + ws / 2 + sOut, sy + lane], b = [tx - wt / 2, ty + lane];
      const k = Math.max(50, Math.abs(b[0] - a[0]) * 0.5);
      const e = [b[0] - gap, b[1]];
      return { c: [a, [a[0] + k, a[1] + offset], [e[0] - k, e[1] + offset], e], dir: [1, 0] };
    }
    const down = dy > 0 ? 1 : -1;
    const a = [sx + lane, sy + down * hs / 2], b = [tx + lane, ty - down * ht / 2];
    const k = Math.max(30, Math.abs(b[1] - a[1]) * 0.5);
    const e = [b[0], b[1] - down * gap];
    return { c: [a, [a[0] + offset, a[1] + down * k], [e[0] + offset, e[1] - down * k], e],
             dir: [0, down] };
  }

  function pathD(c) {
    return `M${c[0][0]},${c[0][1]} C${c[1][0]},${c[1][1]} ${c[2][0]},${c[2][1]} ` +
      `${c[3][0]},${c[3][1]}`;
  }

  function outPoint(n) {
    const [x, y] = data.pos[n.id];
    const [w] = nodeSize(n);
    return [x + w / 2 + (n.kind === "encoder" ? 2 : 0), y];
  }

  function drawEdge(e, offset, lane) {
    const s = data.byId[e.source], t = data.byId[e.target];
    if (!s || !t) return;
    const inh = e.receptor === "inh";
    const sel = data.selection.type === "edge" && data.selection.id === e.id;
    const problem = data.problems[e.id];
    const g = svgEl("g", {
      class: `ss-edge ${inh ? "inh" : "exc"}` + (e.plastic ? " plastic" : "") +
        (sel ? " selected" : "") + (problem ? " problem" : ""),
      "data-edge-id": e.id, "data-source": e.source, "data-target": e.target,
    }, edgesG);
    if (problem) g.setAttribute("data-problem", problem);
    // Leave room for the head so the line does not poke through it.
    const tipGap = inh ? 5 : 9;
    const { c, dir } = route(s, t, lane, offset, tipGap);
    const d = pathD(c);
    svgEl("path", { class: "halo", d }, g);
    svgEl("path", { class: "line", d }, g);
    // Spikes the projection carries at the time cursor (dashes that flow while playing).
    const pulse = svgEl("path", { class: "pulse", d }, g);
    svgEl("path", { class: "hit", d }, g);
    const [ux, uy] = dir;
    if (inh) {
      // Round head: inhibition (the classic "ball" end).
      svgEl("circle", { class: "head", cx: c[3][0] + ux, cy: c[3][1] + uy, r: 4.5 }, g);
    } else {
      const tx = c[3][0] + ux * tipGap, ty = c[3][1] + uy * tipGap;
      const bx = tx - ux * 11, by = ty - uy * 11;
      svgEl("path", { class: "head", d: `M${tx},${ty} L${bx - uy * 5.5},${by + ux * 5.5} ` +
        `L${bx + uy * 5.5},${by - ux * 5.5} Z` }, g);
    }
    const t0 = svgEl("title", {}, g);
    t0.textContent = (problem ? `\u26A0 ${problem}\n` : "") +
      `${e.id}: ${e.source} \u2192 ${e.target} (${inh ? "inhibitory" : "excitatory"}` +
      (e.plastic ? `, plastic: ${e.rule || "rule"}` : "") + ")";
    edgeEls.set(e.id, { g, pulse, title: t0, text: t0.textContent });
    const text = e.plastic ? (e.rule || "plastic") : (e.label || "");
    if (text) {
      const [mx, my] = bezierPoint(c[0], c[1], c[2], c[3], 0.5);
      const w = text.length * 6.2 + 12;
      svgEl("rect", { class: "label-bg", x: mx - w / 2, y: my - 9, width: w, height: 18,
                      rx: 9 }, g);
      svgEl("text", { class: "label", x: mx, y: my + 4, "text-anchor": "middle" }, g)
        .textContent = text;
    }
  }

  function drawMonitorLink(m) {
    const p = data.byId[m.target];
    if (!p) return;
    const g = svgEl("g", { "data-monitor-link": m.id, "data-target": m.target }, linksG);
    const { c } = route(p, m, 0, 0, 0);
    const d = pathD(c);
    svgEl("path", { class: "ss-monlink", d }, g);
    svgEl("path", { class: "ss-monlink-hit", d }, g);
    svgEl("circle", { class: "ss-monlink-dot", cx: c[3][0], cy: c[3][1], r: 3 }, g);
    svgEl("title", {}, g).textContent = `${m.label || m.id} records ${m.target}`;
  }

  function drawGraph() {
    edgesG.replaceChildren();
    nodesG.replaceChildren();
    linksG.replaceChildren();
    nodeEls.clear();
    edgeEls.clear();
    const seen = {};
    const pairs = new Set(data.edges.map((e) => `${e.source}\u0000${e.target}`));
    for (const e of data.edges) {
      // Parallel edges (same source and target) fan out so each stays clickable; an edge and
      // its reverse twin run in separate lanes instead of on top of each other.
      const key = `${e.source}\u0000${e.target}`;
      const i = seen[key] = (seen[key] ?? -1) + 1;
      const twin = e.source !== e.target && pairs.has(`${e.target}\u0000${e.source}`);
      const lane = twin ? (e.source < e.target ? -14 : 14) : 0;
      drawEdge(e, i === 0 ? 0 : (i % 2 ? 1 : -1) * Math.ceil(i / 2) * 22, lane);
    }
    for (const n of data.nodes) if (n.kind === "monitor" && n.target) drawMonitorLink(n);
    for (const n of data.nodes) drawNode(n);
    empty.style.display = data.nodes.length ? "none" : "";
    help.style.display = data.nodes.length ? "" : "none";
    deleteBtn.disabled = !(data.selection.type && data.selection.id != null);
    shownFrame = -1;
    paintActivity();
  }

  // ------------------------------------------------------------------ activity at the cursor
  function readActivity() {
    const a = plain(model.activity) || {};
    const times = a.times_ms || [];
    activity = times.length && Number(a.step_ms) > 0 ? a : null;
    if (activity) {
      activity.peaks = {};
      for (const [id, e] of Object.entries(activity.edges || {})) {
        activity.peaks[id] = Math.max(0, ...(e.events || []));
      }
    }
    shownFrame = -1;
  }

  function frameAt(t) {
    const k = Math.floor(t / activity.step_ms + 0.5);
    return Math.min(Math.max(k, 0), activity.times_ms.length - 1);
  }

  function clearActivity() {
    for (const { g, body, rate, title, text } of nodeEls.values()) {
      g.classList.remove("ss-active", "ss-hot");
      delete g.dataset.rateHz;
      if (body) body.style.fill = "";
      rate.textContent = "";
      title.textContent = text;
    }
    for (const { g, pulse, title, text } of edgeEls.values()) {
      g.classList.remove("ss-carrying");
      delete g.dataset.events;
      delete g.dataset.spikes;
      pulse.style.opacity = "";
      pulse.style.strokeWidth = "";
      title.textContent = text;
    }
    legend.style.display = "none";
    root.classList.remove("ss-playing");
  }

  // Tint nodes by their rate and pulse projections by the spikes they carry, in the window
  // around the cursor time; only when the frame changes (DOM writes are the cost here).
  function paintActivity() {
    if (!activity) { clearActivity(); return; }
    // Every DOM write costs a repaint of the editor: write only what changed.
    if (root.classList.contains("ss-playing") !== !!cursor.playing) {
      root.classList.toggle("ss-playing", !!cursor.playing);
    }
    const k = frameAt(cursor.t);
    if (k === shownFrame) return;
    shownFrame = k;
    legend.style.display = "block";
    legend.dataset.frame = String(k);
    const a = activity, t = a.times_ms[k], half = a.window_ms / 2;
    const when = `at t = ${formatMs(t)} (\u00B1${formatMs(half)})`;
    const top = Number(a.max_rate_hz) || 0;
    legendText.textContent = `Activity ${when}`;
    legendTicks.replaceChildren();
    for (const f of [0, 0.25, 1]) {
      htmlEl("span", null, legendTicks, formatRate(top * f)).style.left = `${Math.sqrt(f) * 100}%`;
    }
    const nodes = a.nodes || {};
    for (const [id, el] of nodeEls) {
      const series = nodes[id];
      if (!series) {
        el.g.classList.remove("ss-active", "ss-hot");
        delete el.g.dataset.rateHz;
        if (el.body) el.body.style.fill = "";
        el.rate.textContent = "";
        el.title.textContent = el.text;
        continue;
      }
      const hz = Number(series[k]) || 0;
      const fraction = top > 0 ? hz / top : 0;
      const tint = heat(fraction);
      el.g.classList.add("ss-active");
      el.g.classList.toggle("ss-hot", lightTextOn(tint));
      el.g.dataset.rateHz = String(hz);
      if (el.body) el.body.style.fill = cssRgb(tint);
      el.rate.textContent = formatRate(hz);
      el.title.textContent = `${el.text}\n${formatRate(hz)} per neuron ${when}`;
    }
    const edges = a.edges || {};
    for (const [id, el] of edgeEls) {
      const e = edges[id];
      const events = e ? Number(e.events[k]) || 0 : 0;
      const spikes = e ? Number(e.spikes[k]) || 0 : 0;
      const peak = e ? a.peaks[id] : 0;
      const x = peak > 0 ? events / peak : 0;
      el.g.classList.toggle("ss-carrying", events > 0);
      if (e) {
        el.g.dataset.events = String(events);
        el.g.dataset.spikes = String(spikes);
      } else {
        delete el.g.dataset.events;
        delete el.g.dataset.spikes;
      }
      el.pulse.style.opacity = events > 0 ? String(0.25 + 0.75 * x) : "";
      el.pulse.style.strokeWidth = events > 0 ? String(1.5 + 4.5 * x) : "";
      el.title.textContent = e ? `${el.text}\n${spikes.toLocaleString("en-US")} spikes ` +
        `carried, ${events.toLocaleString("en-US")} synaptic events ${when}` : el.text;
    }
  }

  const onCursor = (ev) => {
    if (!ev.detail || ev.detail.channel !== model.cursor_channel) return;
    cursor = { t: Number(ev.detail.t) || 0, playing: !!ev.detail.playing };
    if (activity) paintActivity();
  };
  window.addEventListener("ss-time-cursor", onCursor);

  function readCursor() {
    const known = (window.__ssTimeCursor || {})[model.cursor_channel];
    if (known) cursor = { t: Number(known.t) || 0, playing: !!known.playing };
  }

  function refresh(full) {
    data = readData();
    if (full) drawPalette();
    drawGraph();
    if (!fitted && canvas.clientWidth) {
      fit();
      fitted = data.nodes.length > 0;
    }
  }

  // ------------------------------------------------------------------ actions
  // Spots handed out in the last seconds count as taken: quick repeated clicks must not stack
  // nodes before Python has answered with the first one.
  let recentAdds = [];

  function freeSpot(x, y) {
    const now = Date.now();
    recentAdds = recentAdds.filter((r) => now - r[2] < 3000);
    const taken = [...Object.values(data.pos), ...recentAdds];
    const busy = (px, py) => taken.some((p) => Math.abs(p[0] - px) < 120 &&
                                               Math.abs(p[1] - py) < 60);
    let i = 0;
    while (busy(x, y) && i++ < 40) y += 70;
    recentAdds.push([x, y, now]);
    return [Math.round(x), Math.round(y)];
  }

  function addAtCentre(item) {
    const [W, H] = canvasSize();
    const r = svg.getBoundingClientRect();
    const [gx, gy] = toGraph(r.left + W / 2, r.top + H / 2);
    const [x, y] = freeSpot(gx, gy);
    send({ action: "add_node", kind: item.kind, model: item.model, x, y });
  }

  function hitNode(clientX, clientY) {
    // Inside the shadow DOM only the shadow root can see our elements.
    const hit = root.getRootNode().elementFromPoint(clientX, clientY);
    const g = hit && hit.closest ? hit.closest("[data-node-id]") : null;
    return g ? g.getAttribute("data-node-id") : null;
  }

  // The last selection the user made here, kept until the server confirms it, so a Delete
  // pressed right after a click acts on what the user sees as selected.
  let pendingSelection = null;

  function select(type, id) {
    if (type && data.selection.type === type && data.selection.id === id) return;
    if (!type && !data.selection.type) return;
    pendingSelection = type ? { type, id } : {};
    send(type ? { action: "select", type, id } : { action: "select" });
  }

  function deleteSelection() {
    const s = pendingSelection || data.selection;
    if (s.type && s.id != null) send({ action: "delete", type: s.type, id: s.id });
  }

  function startPaletteDrag(e, item) {
    if (e.button !== 0) return;
    const btn = e.currentTarget;
    const start = [e.clientX, e.clientY];
    let chip = null;
    const move = (ev) => {
      if (!chip && Math.hypot(ev.clientX - start[0], ev.clientY - start[1]) < 6) return;
      if (!chip) {
        chip = htmlEl("div", "ss-ge-ghost-add", root, `+ ${item.title || item.model}`);
      }
      const r = root.getBoundingClientRect();
      chip.style.left = `${ev.clientX - r.left + 10}px`;
      chip.style.top = `${ev.clientY - r.top + 10}px`;
    };
    const up = (ev) => {
      window.removeEventListener("pointermove", move, true);
      window.removeEventListener("pointerup", up, true);
      if (!chip) return;
      chip.remove();
      btn._dragged = true;
      const hit = root.getRootNode().elementFromPoint(ev.clientX, ev.clientY);
      if (hit && canvas.contains(hit)) {
        const [gx, gy] = toGraph(ev.clientX, ev.clientY);
        send({ action: "add_node", kind: item.kind, model: item.model,
               x: Math.round(gx), y: Math.round(gy) });
      }
    };
    window.addEventListener("pointermove", move, true);
    window.addEventListener("pointerup", up, true);
  }

  // ------------------------------------------------------------------ pointer gestures
  svg.addEventListener("pointerdown", (e) => {
    if (e.button !== 0 || !data) return;
    root.focus({ preventScroll: true });
    const t = e.target;
    const nodeG = t.closest("[data-node-id]");
    const edgeG = t.closest("[data-edge-id]");
    const linkG = t.closest("[data-monitor-link]");
    const start = [e.clientX, e.clientY];
    if (nodeG) {
      const id = nodeG.getAttribute("data-node-id");
      const n = data.byId[id];
      if (t.closest("[data-handle]") || e.shiftKey) {
        gesture = { type: "connect", id, start, moved: 0 };
      } else {
        gesture = { type: "node", id, start, from: data.pos[id].slice(), moved: false };
      }
      if (n && n.kind === "monitor" && gesture.type === "connect" && !e.shiftKey) gesture = null;
    } else if (edgeG) {
      gesture = { type: "edge", id: edgeG.getAttribute("data-edge-id") };
    } else if (linkG) {
      gesture = { type: "link", id: linkG.getAttribute("data-monitor-link") };
    } else {
      gesture = { type: "pan", start, from: [view.x, view.y], moved: false };
    }
    if (gesture) {
      svg.setPointerCapture(e.pointerId);
      e.preventDefault();
    }
  });

  let dropTarget = null;
  function markDrop(id) {
    if (dropTarget === id) return;
    nodesG.querySelectorAll(".drop-target").forEach((g) => g.classList.remove("drop-target"));
    dropTarget = id;
    if (id) {
      const g = nodesG.querySelector(`[data-node-id="${CSS.escape(id)}"]`);
      if (g) g.classList.add("drop-target");
    }
  }

  svg.addEventListener("pointermove", (e) => {
    if (!gesture) return;
    const dx = e.clientX - (gesture.start ? gesture.start[0] : 0);
    const dy = e.clientY - (gesture.start ? gesture.start[1] : 0);
    if (gesture.type === "node") {
      if (!gesture.moved && Math.hypot(dx, dy) < 4) return;
      gesture.moved = true;
      overrides[gesture.id] = [gesture.from[0] + dx / view.k, gesture.from[1] + dy / view.k];
      data.pos[gesture.id] = overrides[gesture.id];
      drawGraph();
    } else if (gesture.type === "pan") {
      if (!gesture.moved && Math.hypot(dx, dy) < 3) return;
      gesture.moved = true;
      canvas.classList.add("panning");
      view.x = gesture.from[0] + dx;
      view.y = gesture.from[1] + dy;
      applyView();
    } else if (gesture.type === "connect") {
      gesture.moved = Math.max(gesture.moved, Math.hypot(dx, dy));
      const s = data.byId[gesture.id];
      const a = outPoint(s);
      const b = toGraph(e.clientX, e.clientY);
      ghost.setAttribute("d", pathD(curve(a, b, 0, false)));
      const over = hitNode(e.clientX, e.clientY);
      markDrop(over && (over !== gesture.id || gesture.moved > 30) ? over : null);
    }
  });

  function endGesture(e, cancelled) {
    const g = gesture;
    gesture = null;
    ghost.setAttribute("d", "");
    markDrop(null);
    canvas.classList.remove("panning");
    if (!g || cancelled) {
      if (g && g.type === "node" && g.moved) { delete overrides[g.id]; refresh(false); }
      return;
    }
    if (g.type === "node") {
      if (g.moved) {
        const [x, y] = overrides[g.id];
        send({ action: "move", id: g.id, x: Math.round(x), y: Math.round(y) });
        select("node", g.id);  // dragging a node also selects it, as in most editors
        // Drop the local position if Python never answers (e.g. the move was rejected).
        clearTimeout(overrideTimer);
        overrideTimer = setTimeout(() => { overrides = {}; refresh(false); }, 5000);
      } else {
        select("node", g.id);
      }
    } else if (g.type === "edge") {
      select("edge", g.id);
    } else if (g.type === "link") {
      select("node", g.id);
    } else if (g.type === "pan") {
      if (!g.moved) select(null);
    } else if (g.type === "connect") {
      const target = hitNode(e.clientX, e.clientY);
      // A click on the handle is not a self-connection; a real drag back onto the node is.
      if (target && (target !== g.id || g.moved > 30)) {
        let [source, tgt] = [g.id, target];
        // Shift-dragging from a monitor onto a population also means "monitor this".
        if (data.byId[source]?.kind === "monitor" && data.byId[tgt]?.kind !== "monitor") {
          [source, tgt] = [tgt, source];
        }
        send({ action: "connect", source, target: tgt });
      }
    }
  }

  svg.addEventListener("pointerup", (e) => endGesture(e, false));
  svg.addEventListener("pointercancel", (e) => endGesture(e, true));
  svg.addEventListener("lostpointercapture", () => {
    if (gesture && gesture.type === "pan") canvas.classList.remove("panning");
  });

  svg.addEventListener("wheel", (e) => {
    e.preventDefault();
    const r = svg.getBoundingClientRect();
    zoomAt(Math.exp(-e.deltaY * 0.0015), e.clientX - r.left, e.clientY - r.top);
  }, { passive: false });

  // Undo / redo listen on the whole page, not only the focused editor: after a click on the
  // app's Undo button (or anywhere else) the focus has left the SVG. Typing fields keep their
  // own text undo.
  const onPageKey = (e) => {
    if (!data || e.defaultPrevented || !(e.ctrlKey || e.metaKey) || e.altKey) return;
    const key = e.key.toLowerCase();
    if (key !== "z" && key !== "y") return;
    if (isTextEntry(e.composedPath()[0])) return;
    e.preventDefault();
    send({ action: key === "y" || e.shiftKey ? "redo" : "undo" });
  };
  const page = el.ownerDocument || document;
  page.addEventListener("keydown", onPageKey);

  root.addEventListener("keydown", (e) => {
    if (!data) return;
    const key = e.key.toLowerCase();
    const mod = e.ctrlKey || e.metaKey;
    if (e.key === "Delete" || e.key === "Backspace") {
      e.preventDefault();
      deleteSelection();
    } else if (e.key === "Escape") {
      if (gesture) endGesture(e, true); else select(null);
    } else if (!mod && key === "f") {
      fit();
    } else if (!mod && (key === "+" || key === "=")) {
      zoomBy(1.2);
    } else if (!mod && key === "-") {
      zoomBy(1 / 1.2);
    }
  });

  function zoomBy(f) {
    const [W, H] = canvasSize();
    zoomAt(f, W / 2, H / 2);
  }

  zoomInBtn.addEventListener("click", () => zoomBy(1.2));
  zoomOutBtn.addEventListener("click", () => zoomBy(1 / 1.2));
  fitBtn.addEventListener("click", () => { fit(); root.focus({ preventScroll: true }); });
  deleteBtn.addEventListener("click", () => {
    deleteSelection();
    root.focus({ preventScroll: true });
  });

  // ------------------------------------------------------------------ Python -> browser
  model.on(["nodes", "edges", "selection", "problems"], () => {
    pendingSelection = null;
    refresh(false);
  });
  model.on("positions", () => {
    overrides = {};
    clearTimeout(overrideTimer);
    refresh(false);
  });
  model.on("palette", () => refresh(true));
  model.on("activity", () => { readActivity(); paintActivity(); });
  model.on("cursor_channel", () => { readCursor(); shownFrame = -1; paintActivity(); });
  // A new project was opened: fit it once, after this update's other changes have landed.
  // Fitted once: nodes added afterwards must not move the view (an empty project included).
  model.on("fit_request", () => {
    requestAnimationFrame(() => {
      if (!data) return;
      refresh(false);
      fitted = canvas.clientWidth > 0;  // a hidden canvas fits when it gets a size
      if (fitted) fit();
    });
  });

  const ro = new ResizeObserver(() => {
    if (!data) return;
    if (!fitted) refresh(false); else applyView();
  });
  ro.observe(canvas);
  model.on("remove", () => {
    ro.disconnect();
    clearTimeout(overrideTimer);
    page.removeEventListener("keydown", onPageKey);
    window.removeEventListener("ss-time-cursor", onCursor);
  });

  applyView();
  readCursor();
  readActivity();
  refresh(true);
  return root;
}
