// The time cursor of a run: a slider with play/pause, steps and a speed choice.
//
// Playback runs here, in the browser: every animation frame moves the slider, the cursor
// lines of the page's plots and tells the graph editor (a window event on this cursor's
// channel). Python hears the time only when the user lets go of the slider, pauses, steps,
// and every `sync_ms` while playing.
//
// A plot asks for a cursor line with a Bokeh Span named LINE (widgets/time_cursor.py). The
// line drawn is an HTML element laid over the plot's canvas and moved with a CSS transform:
// having Bokeh paint the Span on every frame made it rewrite a stylesheet and recompute the
// page's styles several times per frame (about 100 ms a frame on the workbench page). Where
// the plot's view cannot be found, the Span itself is moved (without telling the server).
const LINE = "ss-time-cursor";
const EVENT = "ss-time-cursor";
const LINE_STYLE = "position:absolute;left:0;top:0;width:2px;background:#d62728;opacity:.8;" +
  "pointer-events:none;will-change:transform;z-index:3;display:none";

function htmlEl(tag, cls, parent, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text != null) e.textContent = text;
  if (parent) parent.appendChild(e);
  return e;
}

function formatTime(ms, duration) {
  if (!Number.isFinite(ms)) return "";
  if (duration >= 10000) return `${(ms / 1000).toFixed(2)} s`;
  if (duration >= 1000) return `${(ms / 1000).toFixed(3)} s`;
  return `${ms.toFixed(1)} ms`;
}

function speedLabel(x) {
  const perSecond = x * 1000;  // model ms per second of playback
  const rate = perSecond >= 1000 ? `${perSecond / 1000} s/s` : `${perSecond} ms/s`;
  return `${x}\u00D7 (${rate})`;
}

// Every model of a Bokeh document, without copying them into a new Set on each call.
function models(doc) {
  return doc._all_models instanceof Map ? doc._all_models.values() : doc.all_models;
}

function modelCount(doc) {
  return doc._all_models instanceof Map ? doc._all_models.size : -1;
}

export function render({ model, el }) {
  const root = htmlEl("div", "ss-cursor");
  root.setAttribute("data-testid", "time-cursor");
  const play = htmlEl("button", "ss-cursor-btn ss-cursor-play", root, "\u25B6");
  play.type = "button";
  play.setAttribute("data-testid", "cursor-play");
  const back = htmlEl("button", "ss-cursor-btn", root, "\u275A\u25C0");
  back.type = "button";
  back.title = "One step back";
  back.setAttribute("data-testid", "cursor-back");
  const fwd = htmlEl("button", "ss-cursor-btn", root, "\u25B6\u275A");
  fwd.type = "button";
  fwd.title = "One step forward";
  fwd.setAttribute("data-testid", "cursor-forward");
  const slider = htmlEl("input", "ss-cursor-slider", root);
  slider.type = "range";
  slider.min = "0";
  slider.setAttribute("data-testid", "cursor-slider");
  slider.setAttribute("aria-label", "Time cursor");
  const label = htmlEl("span", "ss-cursor-time", root);
  label.setAttribute("data-testid", "cursor-time");
  const speedBox = htmlEl("label", "ss-cursor-speed", root, "Speed ");
  const speed = htmlEl("select", null, speedBox);
  speed.setAttribute("data-testid", "cursor-speed");
  speed.title = "Model time per second of playback";

  let t = Number(model.value) || 0;
  let playing = false;
  let raf = null;
  let last = 0;
  let syncedAt = 0;
  let lines = [];
  let seenModels = -2;
  let scannedAt = 0;

  const duration = () => Math.max(Number(model.duration_ms) || 0, 0);
  const clamp = (x) => Math.min(Math.max(x, 0), duration());

  // The plots' cursor lines, looked up again when the document gained or lost models (a tab
  // drawn for the first time, a figure rebuilt) and at least once a second.
  function scan(force) {
    const doc = model.document;
    if (!doc) return;
    const count = modelCount(doc);
    const now = performance.now();
    if (!force && count === seenModels && now - scannedAt < 1000) return;
    seenModels = count;
    scannedAt = now;
    lines = [];
    for (const m of models(doc)) {
      if (m.name === LINE && m.properties && m.properties.location) lines.push(m);
    }
  }

  // Span model -> {el, pv} of the HTML line over its plot (see the top of this file).
  const drawn = new Map();
  const watched = new WeakSet();  // plot views whose repaints re-place their line

  const bokehIndex = () => {
    const index = window.Bokeh && window.Bokeh.index;
    return index && typeof index.find_one === "function" ? index : null;
  };

  // The line of a Span's plot; null while the plot is not drawn yet (a hidden tab).
  function overlay(line) {
    let entry = drawn.get(line);
    if (entry && entry.el.isConnected) return entry;
    const view = bokehIndex().find_one(line);
    const pv = view && view.plot_view;
    const canvas = pv && pv.canvas_view && pv.canvas_view.el;
    // The canvas view draws in its shadow root: a plain child of its element is not shown.
    const host = canvas && (canvas.shadowRoot || canvas);
    if (!host || !pv.frame || !pv.frame.x_scale) return null;
    if (!entry) {
      const el = document.createElement("div");
      el.className = "ss-time-cursor-line";
      el.style.cssText = LINE_STYLE;
      entry = { el, pv, shown: null };
      drawn.set(line, entry);
    }
    entry.pv = pv;
    host.appendChild(entry.el);
    if (!watched.has(pv) && pv.repainted && pv.repainted.connect) {
      watched.add(pv);  // panned, zoomed or resized: the line follows its axis
      pv.repainted.connect(() => {
        for (const e of drawn.values()) if (e.pv === pv) place(e);
      }, entry.el);
    }
    return entry;
  }

  function place(entry) {
    const frame = entry.pv.frame, box = frame.bbox;
    const x = frame.x_scale.compute(t);
    const inside = duration() > 0 && model.visible !== false && box && box.width > 0 &&
      Number.isFinite(x) && x >= box.left - 1 && x <= box.right + 1;
    if (inside) {
      entry.el.style.transform = `translate(${x - 1}px, ${box.top}px)`;
      if (entry.height !== box.height) {
        entry.height = box.height;
        entry.el.style.height = `${box.height}px`;
      }
    }
    if (entry.shown !== inside) {
      entry.shown = inside;
      entry.el.style.display = inside ? "block" : "none";
    }
    entry.el.dataset.timeMs = String(t);
  }

  function hideLines() {
    for (const entry of drawn.values()) {
      if (entry.shown !== false) { entry.shown = false; entry.el.style.display = "none"; }
    }
    for (const line of lines) {
      if (line.location != null) line.setv({ location: null }, { sync: false });
    }
  }

  function moveLines(force) {
    scan(false);
    if (!(duration() > 0) || model.visible === false) {  // no run to show
      hideLines();
      return;
    }
    const overlays = bokehIndex() !== null;
    for (const line of lines) {
      if (!overlays) {
        if (force || line.location !== t) line.setv({ location: t }, { sync: false });
        continue;
      }
      const entry = overlay(line);
      if (entry) place(entry);
    }
    for (const [line, entry] of drawn) {  // plots gone: their lines go too
      if (!lines.includes(line)) { entry.el.remove(); drawn.delete(line); }
    }
  }

  function publish() {
    const registry = window.__ssTimeCursor || (window.__ssTimeCursor = {});
    registry[model.channel] = { t, playing };
    window.dispatchEvent(new CustomEvent(EVENT, {
      detail: { channel: model.channel, t, playing } }));
  }

  let shownPlaying = null;

  function show() {
    slider.value = String(t);
    label.textContent = `t = ${formatTime(t, duration())} of ${formatTime(duration(), duration())}`;
    root.dataset.timeMs = String(t);
    if (shownPlaying !== playing) {  // only on change: every DOM write costs a repaint
      shownPlaying = playing;
      root.dataset.playing = playing ? "1" : "0";
      play.textContent = playing ? "\u275A\u275A" : "\u25B6";
      play.title = playing ? "Pause" : "Play the run";
    }
    moveLines(false);
    publish();
  }

  function sync() {
    syncedAt = performance.now();
    if (Math.abs((Number(model.value) || 0) - t) > 1e-9) model.value = t;
  }

  function frame(now) {
    raf = null;
    if (!playing) return;
    const wall = Math.min(now - last, 250);  // a hidden tab's long gap is not a jump
    last = now;
    t = clamp(t + wall * (Number(model.speed) || 0.1));
    const end = t >= duration();
    if (end) playing = false;
    show();
    if (end || now - syncedAt >= (Number(model.sync_ms) || 400)) sync();
    if (end && model.playing) model.playing = false;
    if (playing) raf = requestAnimationFrame(frame);
  }

  function start() {
    if (!(duration() > 0)) return;
    if (t >= duration()) t = 0;  // at the end, Play starts over
    playing = true;
    last = performance.now();
    syncedAt = last;
    model.playing = true;
    show();
    if (raf === null) raf = requestAnimationFrame(frame);
  }

  // `report`: tell Python where playback stopped (not when Python itself stopped it, e.g.
  // for a new run: its own time would be overwritten by the old one).
  function stop(report = true) {
    playing = false;
    if (raf !== null) cancelAnimationFrame(raf);
    raf = null;
    if (!report) t = clamp(Number(model.value) || 0);
    show();
    if (report) sync();
    if (model.playing) model.playing = false;
  }

  function stepBy(k) {
    if (playing) stop();
    const step = Number(model.step_ms) || duration() / 100;
    t = clamp(Math.round(t / step + k) * step);
    show();
    sync();
  }

  function configure() {
    slider.max = String(duration());
    slider.step = String(Number(model.step_ms) > 0 ? Number(model.step_ms) / 4 : "any");
    const disabled = !(duration() > 0);
    for (const b of [play, back, fwd, slider, speed]) b.disabled = disabled;
    speed.replaceChildren();
    for (const x of model.speeds || []) {
      const o = htmlEl("option", null, speed, speedLabel(x));
      o.value = String(x);
    }
    speed.value = String(model.speed);
    t = clamp(playing ? t : Number(model.value) || 0);
    show();
  }

  play.addEventListener("click", () => (playing ? stop() : start()));
  back.addEventListener("click", () => stepBy(-1));
  fwd.addEventListener("click", () => stepBy(1));
  slider.addEventListener("input", () => {
    if (playing) stop();
    t = clamp(Number(slider.value));
    show();
  });
  slider.addEventListener("change", () => sync());
  speed.addEventListener("change", () => { model.speed = Number(speed.value); });

  model.on("value", () => {
    const v = clamp(Number(model.value) || 0);
    if (Math.abs(v - t) > 1e-9 && !playing) {
      t = v;
      show();
    }
  });
  model.on(["duration_ms", "step_ms", "speeds"], configure);
  model.on("visible", () => moveLines(true));
  model.on("speed", () => { speed.value = String(model.speed); });
  model.on("playing", () => {
    if (model.playing && !playing) start();
    else if (!model.playing && playing) stop(false);
  });
  // A plot drawn later (another tab opened, a figure rebuilt) gets its line without waiting
  // for the cursor to move; while playing, each frame does this anyway.
  const watch = setInterval(() => {
    if (playing || !model.document) return;
    if (!(duration() > 0)) return;
    if (modelCount(model.document) !== seenModels ||
        lines.some((line) => !drawn.has(line) || !drawn.get(line).el.isConnected)) {
      moveLines(true);
    }
  }, 300);
  model.on("remove", () => {
    clearInterval(watch);
    if (raf !== null) cancelAnimationFrame(raf);
    for (const entry of drawn.values()) entry.el.remove();
  });

  configure();
  return root;
}
