// Lay the page out once per server patch, not once per widget the patch changes.
//
// BokehJS lays out the whole page (or the whole block a view belongs to) each time one widget
// re-renders: a button whose `disabled` changes, a text pane with new text, a view with new
// children all end in `compute_layout` at the top of the block, which measures every view in
// it (forcing the browser to recompute styles) and repaints plots whose box moved. On the
// workbench page after a run one such layout costs 0.1-0.6 s (2 cores, software WebGL), and one
// patch from the server (Run: three buttons, the progress bar, the status, the raster's new
// layout) used to trigger several in a row.
//
// While a patch is applied, a view's request for a layout is only noted; once the patch has
// been applied the noted views are laid out, and a block already laid out in that pass is not
// laid out again. Views built later (asynchronously) lay out as before.

const METHODS = ["invalidate_layout", "compute_layout"];
let depth = 0;              // > 0 while a patch is applied
let flushing = false;       // true while the noted layouts are done
const noted = {invalidate_layout: new Set(), compute_layout: new Set()};
const visited = {invalidate_layout: new Set(), compute_layout: new Set()};
const inFlight = new Map(); // view -> nested calls of the wrapped methods now running

function wrap(proto, name) {
  const original = proto[name];
  const wrapped = function (...args) {
    const running = inFlight.get(this) || 0;
    if (depth > 0 && !flushing && running === 0 && inFlight.size === 0) {
      noted[name].add(this);  // the first request of a chain: do it after the patch
      return;
    }
    if (flushing && running === 0) {
      if (visited[name].has(this)) return;  // its block was laid out in this pass
      visited[name].add(this);
    }
    inFlight.set(this, running + 1);
    try {
      return original.apply(this, args);
    } finally {
      if (running === 0) inFlight.delete(this); else inFlight.set(this, running);
    }
  };
  wrapped.__ssBatched = true;
  proto[name] = wrapped;
}

function wrapClassesOf(view, seen) {
  if (seen.has(view)) return;
  seen.add(view);
  for (let p = Object.getPrototypeOf(view); p && p !== Object.prototype;
       p = Object.getPrototypeOf(p)) {
    for (const name of METHODS) {
      if (Object.prototype.hasOwnProperty.call(p, name) && typeof p[name] === "function" &&
          !p[name].__ssBatched) wrap(p, name);
    }
  }
  if (typeof view.children === "function") {
    for (const child of view.children()) wrapClassesOf(child, seen);
  }
}

function wrapViews() {
  const index = window.Bokeh && window.Bokeh.index;
  if (!index) return;
  const seen = new Set();
  for (const root of Object.values(index)) wrapClassesOf(root, seen);
}

function flush() {
  flushing = true;
  try {
    for (const name of METHODS) {
      const views = [...noted[name]];
      noted[name].clear();
      for (const view of views) {
        if (view.el && view.el.isConnected) view[name]();
      }
    }
  } finally {
    flushing = false;
    for (const name of METHODS) visited[name].clear();
  }
}

function install() {
  const docs = window.Bokeh && window.Bokeh.documents;
  if (!docs || !docs.length) return false;
  const proto = Object.getPrototypeOf(docs[0]);
  if (proto.__ssBatched) return true;
  proto.__ssBatched = true;
  const apply = proto.apply_json_patch;
  proto.apply_json_patch = function (...args) {
    if (depth === 0) wrapViews();
    depth += 1;
    try {
      return apply.apply(this, args);
    } finally {
      depth -= 1;
      if (depth === 0) {
        try { flush(); } catch (err) { console.error("layout after a patch failed", err); }
      }
    }
  };
  return true;
}

export function render() {
  const tryInstall = () => { if (!install()) requestAnimationFrame(tryInstall); };
  tryInstall();
}
