// graph.js: a state machine's definition drawn as AWS draws it. Every
// state is a node (data-state-name, data-status); Parallel branches and
// Map iterators are nested groups; Choice rules are labelled edges; Catch
// edges are dashed and distinct from Next edges; Start and End are circles.
// Each scope (the machine, a branch, an iterator) is laid out on its own
// with dagre (vendor/dagre.min.js, global `dagre`) and placed inside its
// container, which keeps large definitions fast. Pan, zoom and fit by
// mouse, wheel and keyboard.

const SVG = 'http://www.w3.org/2000/svg';
const NODE_H = 44;
const HEADER_H = 40;
const PAD = 16;
/** MIN_FIRST_SCALE: a large graph first shows its top at this scale. */
export const MIN_FIRST_SCALE = 0.45;

/** ICONS: a short glyph per state type (shape, not only colour). */
const TYPE_ICONS = {
  Task: '⚙', Pass: '→', Choice: '◇', Wait: '◷', Succeed: '✓', Fail: '✕', Parallel: '⇉', Map: '⟳',
};

/** STATUS_ICONS: the glyph each status adds to a node, for colour-blind users. */
export const STATUS_ICONS = {
  'not-started': '', 'in-progress': '◔', succeeded: '✓', failed: '✕', caught: '⚠', aborted: '⊘',
};

/** STATUS_LABELS: the legend's words. */
export const STATUS_LABELS = {
  'not-started': 'Not started', 'in-progress': 'In progress', succeeded: 'Succeeded', failed: 'Failed',
  caught: 'Caught error', aborted: 'Cancelled / aborted',
};

function el(name, attrs, parent) {
  const n = document.createElementNS(SVG, name);
  for (const k in attrs) if (attrs[k] !== undefined) n.setAttribute(k, attrs[k]);
  if (parent) parent.appendChild(n);
  return n;
}

/** inner returns the scopes nested in a state: Parallel branches or a Map's processor. */
export function innerScopes(st) {
  if (st.Type === 'Parallel') return st.Branches || [];
  if (st.Type === 'Map') {
    const p = st.ItemProcessor || st.Iterator;
    return p ? [p] : [];
  }
  return [];
}

/** descendants maps each Parallel and Map state to the names of the states nested in it. */
export function descendants(def) {
  const out = new Map();
  function walk(scope) {
    const names = [];
    for (const [name, st] of Object.entries(scope?.States || {})) {
      names.push(name);
      const nested = [];
      for (const s of innerScopes(st)) nested.push(...walk(s));
      if (st.Type === 'Parallel' || st.Type === 'Map') out.set(name, nested);
      names.push(...nested);
    }
    return names;
  }
  walk(def);
  return out;
}

/** stateTypes maps each state name (at any depth) to its definition. */
export function allStates(def) {
  const out = new Map();
  (function walk(scope) {
    for (const [name, st] of Object.entries(scope?.States || {})) {
      out.set(name, st);
      for (const s of innerScopes(st)) walk(s);
    }
  })(def);
  return out;
}

/** condition renders a Choice rule as text (JSONPath or JSONata). */
export function condition(rule) {
  if (!rule || typeof rule !== 'object') return '';
  if (typeof rule.Condition === 'string') return rule.Condition;
  if (Array.isArray(rule.And)) return rule.And.map((r) => wrap(condition(r))).join(' and ');
  if (Array.isArray(rule.Or)) return rule.Or.map((r) => wrap(condition(r))).join(' or ');
  if (rule.Not) return 'not ' + wrap(condition(rule.Not));
  const v = rule.Variable || '';
  for (const k of Object.keys(rule)) {
    const m = /^(String|Numeric|Boolean|Timestamp)(Equals|LessThan|GreaterThan|LessThanEquals|GreaterThanEquals|Matches)(Path)?$/.exec(k);
    if (m) {
      const op = { Equals: '==', LessThan: '<', GreaterThan: '>', LessThanEquals: '<=', GreaterThanEquals: '>=', Matches: 'matches' }[m[2]];
      const val = m[3] ? rule[k] : JSON.stringify(rule[k]);
      return `${v} ${op} ${val}`;
    }
    const is = /^Is(Null|Present|Numeric|String|Boolean|Timestamp)$/.exec(k);
    if (is) return `${v} ${rule[k] ? 'is' : 'is not'} ${is[1].toLowerCase()}`;
  }
  return v;
}

function wrap(s) {
  return /\s/.test(s) ? '(' + s + ')' : s;
}

function clip(s, n) {
  return s.length > n ? s.slice(0, n - 1) + '…' : s;
}

const measureCache = new Map();
let measureCtx = null;
function textWidth(s, font) {
  const key = font + '\u0000' + s;
  let w = measureCache.get(key);
  if (w !== undefined) return w;
  if (!measureCtx) measureCtx = document.createElement('canvas').getContext('2d');
  measureCtx.font = font;
  w = measureCtx.measureText(s).width;
  measureCache.set(key, w);
  return w;
}

const NAME_FONT = '600 13px system-ui, sans-serif';
const SUB_FONT = '11px system-ui, sans-serif';
const LABEL_FONT = '11px system-ui, sans-serif';

function subtitle(st) {
  if (st.Type === 'Task') {
    const r = String(st.Resource || '');
    const m = /^arn:aws:states:::(.+)$/.exec(r);
    if (m) return clip(m[1], 34);
    if (r.includes(':activity:')) return 'Activity: ' + clip(r.split(':').pop(), 24);
    if (r.includes(':function:')) return 'Lambda: ' + clip(r.split(':').pop(), 26);
    return 'Task';
  }
  if (st.Type === 'Map') return (st.ItemProcessor?.ProcessorConfig?.Mode === 'DISTRIBUTED' ? 'Distributed Map' : 'Map') + ' state';
  return (st.Type || '?') + ' state';
}

/**
 * layoutScope lays out one scope (its States) and returns
 * {width, height, nodes, edges}. Nodes of Parallel and Map states carry
 * their nested scopes' layouts (children, placed relative to the node).
 */
function layoutScope(scope, top) {
  if (!top) {
    const chain = chainLayout(scope);
    if (chain) return chain;
  }
  const g = new dagre.graphlib.Graph({ multigraph: true });
  g.setGraph({ rankdir: 'TB', nodesep: 28, ranksep: 34, edgesep: 12, marginx: 8, marginy: 8 });
  g.setDefaultEdgeLabel(() => ({}));
  const states = scope?.States || {};
  const names = Object.keys(states);
  const info = new Map();
  for (const name of names) {
    const st = states[name] || {};
    const nested = innerScopes(st).map((s) => layoutScope(s, false));
    let w;
    let h;
    const sub = subtitle(st);
    const textW = Math.max(textWidth(name, NAME_FONT), textWidth(sub, SUB_FONT)) + 56;
    if (nested.length) {
      const inner = nested.reduce((a, n) => a + n.width, 0) + PAD * (nested.length + 1);
      w = Math.max(textW, inner);
      h = HEADER_H + Math.max(...nested.map((n) => n.height), 20) + PAD;
    } else {
      w = Math.min(Math.max(textW, 120), 320);
      h = NODE_H;
    }
    info.set(name, { name, st, nested, w, h });
    g.setNode(name, { width: w, height: h });
  }
  if (top) {
    g.setNode('__start', { width: 56, height: 28 });
    g.setNode('__end', { width: 56, height: 28 });
  }
  let k = 0;
  const edge = (from, to, kind, label) => {
    if (!g.hasNode(to)) return;
    const lab = label ? clip(label, 44) : '';
    const attrs = { kind, label: lab, full: label || '' };
    if (lab) {
      attrs.width = textWidth(lab, LABEL_FONT) + 10;
      attrs.height = 16;
      attrs.labelpos = 'c';
    }
    g.setEdge(from, to, attrs, 'e' + k++);
  };
  if (top && scope?.StartAt) edge('__start', scope.StartAt, 'next');
  for (const name of names) {
    const st = states[name] || {};
    if (st.Type === 'Choice') {
      for (const r of st.Choices || []) edge(name, r.Next, 'choice', condition(r));
      if (st.Default) edge(name, st.Default, 'choice', 'Default');
    } else if (st.Next) {
      edge(name, st.Next, 'next');
    }
    for (const c of st.Catch || []) edge(name, c.Next, 'catch', 'Catch: ' + (c.ErrorEquals || []).join(', '));
    if (top && (st.End || st.Type === 'Succeed' || st.Type === 'Fail')) edge(name, '__end', 'next');
  }
  dagre.layout(g);
  const gr = g.graph();
  const nodes = [];
  for (const id of g.nodes()) {
    const n = g.node(id);
    const x = n.x - n.width / 2;
    const y = n.y - n.height / 2;
    if (id === '__start' || id === '__end') {
      nodes.push({ special: id === '__start' ? 'Start' : 'End', x, y, w: n.width, h: n.height });
      continue;
    }
    const i = info.get(id);
    const node = { name: id, st: i.st, x, y, w: n.width, h: n.height, children: [] };
    // Nested scopes side by side under the header, centred.
    const total = i.nested.reduce((a, s) => a + s.width, 0) + PAD * (i.nested.length - 1);
    let cx = (n.width - total) / 2;
    for (const s of i.nested) {
      node.children.push({ dx: cx, dy: HEADER_H, layout: s });
      cx += s.width + PAD;
    }
    nodes.push(node);
  }
  const edges = g.edges().map((e) => ({ from: e.v, to: e.w, ...g.edge(e) }));
  return { width: gr.width || 0, height: gr.height || 0, nodes, edges };
}

/**
 * chainLayout lays out a nested scope that is a plain chain (StartAt, then
 * Next after Next, no Choice, Catch or nested state) without dagre: a
 * column of nodes. Parallel branches often are; it keeps big definitions
 * fast. It returns null for any other scope.
 */
function chainLayout(scope) {
  const states = scope?.States || {};
  const order = [];
  const seen = new Set();
  for (let name = scope?.StartAt; name !== undefined; ) {
    const st = states[name];
    if (!st || seen.has(name) || st.Type === 'Choice' || st.Catch || innerScopes(st).length || st.Type === 'Parallel' || st.Type === 'Map') return null;
    seen.add(name);
    order.push(name);
    name = st.Next;
  }
  if (order.length === 0 || order.length !== Object.keys(states).length) return null;
  const M = 8;
  const GAP = 34;
  const sizes = order.map((name) => {
    const textW = Math.max(textWidth(name, NAME_FONT), textWidth(subtitle(states[name]), SUB_FONT)) + 56;
    return Math.min(Math.max(textW, 120), 320);
  });
  const width = Math.max(...sizes) + 2 * M;
  const nodes = [];
  const edges = [];
  let y = M;
  order.forEach((name, i) => {
    const w = sizes[i];
    nodes.push({ name, st: states[name], x: (width - w) / 2, y, w, h: NODE_H, children: [] });
    if (i > 0) edges.push({ from: order[i - 1], to: name, kind: 'next', label: '', full: '', points: [{ x: width / 2, y: y - GAP }, { x: width / 2, y }] });
    y += NODE_H + GAP;
  });
  return { width, height: y - GAP + M, nodes, edges };
}

/**
 * Graph draws a definition into a container element and keeps the nodes
 * to colour them. onSelect(name) is called when a state is clicked or
 * chosen with Enter.
 */
export class Graph {
  constructor(container, { onSelect } = {}) {
    this.container = container;
    this.onSelect = onSelect;
    this.nodes = new Map();
    this.view = { x: 0, y: 0, k: 1 };
    this.layoutMs = 0;
  }

  /** render lays out and draws def (an object); returns the layout time in ms. */
  render(def) {
    const t0 = performance.now();
    const layout = layoutScope(def, true);
    this.layoutMs = performance.now() - t0;
    this.container.textContent = '';
    this.nodes.clear();
    const svg = el('svg', { class: 'graph-svg', role: 'group', 'aria-label': 'State machine graph', tabindex: '0' });
    const defs = el('defs', {}, svg);
    for (const kind of ['next', 'choice', 'catch']) {
      const m = el('marker', { id: 'arrow-' + kind, viewBox: '0 0 10 10', refX: '9', refY: '5', markerWidth: '7', markerHeight: '7', orient: 'auto-start-reverse' }, defs);
      el('path', { d: 'M0,0 L10,5 L0,10 z', class: 'arrow arrow-' + kind }, m);
    }
    this.root = el('g', { class: 'graph-root' }, svg);
    this.drawScope(layout, this.root, 0, 0);
    this.container.appendChild(svg);
    this.svg = svg;
    this.size = { w: layout.width, h: layout.height };
    this.bindPanZoom();
    this.fit(MIN_FIRST_SCALE);
    this.renderMs = performance.now() - t0;
    return this.layoutMs;
  }

  drawScope(layout, parent, ox, oy) {
    const edgeLayer = el('g', { class: 'edges' }, parent);
    for (const n of layout.nodes) {
      const g = el('g', { transform: `translate(${ox + n.x},${oy + n.y})` }, parent);
      if (n.special) {
        g.setAttribute('class', 'node-terminal');
        el('rect', { width: n.w, height: n.h, rx: n.h / 2, class: 'terminal' }, g);
        const t = el('text', { x: n.w / 2, y: n.h / 2 + 4, 'text-anchor': 'middle', class: 'terminal-text' }, g);
        t.textContent = n.special;
        continue;
      }
      const type = n.st.Type || '?';
      const container = n.children.length > 0 || type === 'Parallel' || type === 'Map';
      g.setAttribute('class', 'node' + (container ? ' container' : ''));
      g.setAttribute('data-state-name', n.name);
      g.setAttribute('data-status', 'not-started');
      g.setAttribute('data-type', type);
      g.setAttribute('tabindex', '0');
      g.setAttribute('role', 'button');
      g.setAttribute('aria-label', `${n.name}, ${type} state, not started`);
      const title = el('title', {}, g);
      title.textContent = `${n.name} (${type})`;
      el('rect', { width: n.w, height: n.h, rx: container ? 10 : 8, class: 'node-box' }, g);
      el('text', { x: 12, y: 19, class: 'node-icon', 'aria-hidden': 'true' }, g).textContent = TYPE_ICONS[type] || '•';
      el('text', { x: 32, y: 19, class: 'node-name' }, g).textContent = n.name;
      el('text', { x: 32, y: 34, class: 'node-sub' }, g).textContent = subtitle(n.st);
      el('text', { x: n.w - 10, y: 19, 'text-anchor': 'end', class: 'status-icon', 'aria-hidden': 'true' }, g);
      this.nodes.set(n.name, g);
      const select = () => this.onSelect && this.onSelect(n.name);
      g.addEventListener('click', (e) => {
        e.stopPropagation();
        select();
      });
      g.addEventListener('keydown', (e) => {
        if (e.key === 'Enter' || e.key === ' ') {
          e.preventDefault();
          e.stopPropagation();
          select();
        }
      });
      for (const c of n.children) this.drawScope(c.layout, parent, ox + n.x + c.dx, oy + n.y + c.dy);
    }
    for (const e of layout.edges) {
      const pts = e.points || [];
      if (!pts.length) continue;
      let d = `M${ox + pts[0].x},${oy + pts[0].y}`;
      for (let i = 1; i < pts.length; i++) d += ` L${ox + pts[i].x},${oy + pts[i].y}`;
      const path = el('path', { d, class: 'edge edge-' + e.kind, 'marker-end': `url(#arrow-${e.kind})`, 'data-from': e.from, 'data-to': e.to }, edgeLayer);
      if (e.full) el('title', {}, path).textContent = e.full;
      if (e.label) {
        const lw = textWidth(e.label, LABEL_FONT) + 10;
        const lg = el('g', { class: 'edge-label edge-label-' + e.kind, transform: `translate(${ox + e.x - lw / 2},${oy + e.y - 8})` }, edgeLayer);
        el('rect', { width: lw, height: 16, rx: 3 }, lg);
        el('text', { x: lw / 2, y: 12, 'text-anchor': 'middle' }, lg).textContent = e.label;
        if (e.full !== e.label) el('title', {}, lg).textContent = e.full;
      }
    }
  }

  /**
   * colour sets each node's data-status (missing names: not-started) and
   * shows its retries (retriesOf, optional) next to the status icon.
   */
  colour(statusOf, retriesOf) {
    for (const [name, g] of this.nodes) {
      const s = statusOf(name) || 'not-started';
      const r = (retriesOf && retriesOf(name)) || 0;
      const icon = STATUS_ICONS[s] + (r ? ` ↻${r}` : '');
      const label = `${name}, ${g.getAttribute('data-type')} state, ${STATUS_LABELS[s].toLowerCase()}${r ? `, ${r} retries` : ''}`;
      if (g.getAttribute('aria-label') === label) continue;
      g.setAttribute('data-status', s);
      g.querySelector('.status-icon').textContent = icon;
      g.setAttribute('aria-label', label);
    }
  }

  select(name) {
    for (const [n, g] of this.nodes) g.classList.toggle('selected', n === name);
  }

  apply() {
    const { x, y, k } = this.view;
    this.root.setAttribute('transform', `translate(${x},${y}) scale(${k})`);
  }

  /**
   * fit shows the whole graph, at most at 120 %; with a minimum scale (the
   * first view of a large graph), it does not shrink below it and shows
   * the top of the graph instead, to pan from.
   */
  fit(minScale = 0.05) {
    const r = this.container.getBoundingClientRect();
    const W = r.width || 800;
    const H = r.height || 500;
    const k = Math.min(1.2, Math.max(minScale, Math.min((W - 20) / (this.size.w || 1), (H - 20) / (this.size.h || 1))));
    this.view = { k, x: (W - this.size.w * k) / 2, y: Math.max(10, (H - this.size.h * k) / 2) };
    this.apply();
  }

  zoom(f, cx, cy) {
    const r = this.container.getBoundingClientRect();
    if (cx === undefined) {
      cx = r.width / 2;
      cy = r.height / 2;
    }
    const k = Math.min(4, Math.max(0.05, this.view.k * f));
    const f2 = k / this.view.k;
    this.view = { k, x: cx - (cx - this.view.x) * f2, y: cy - (cy - this.view.y) * f2 };
    this.apply();
  }

  pan(dx, dy) {
    this.view.x += dx;
    this.view.y += dy;
    this.apply();
  }

  bindPanZoom() {
    const svg = this.svg;
    svg.addEventListener('wheel', (e) => {
      e.preventDefault();
      const r = svg.getBoundingClientRect();
      this.zoom(Math.exp(-e.deltaY * 0.0015), e.clientX - r.left, e.clientY - r.top);
    }, { passive: false });
    let drag = null;
    svg.addEventListener('pointerdown', (e) => {
      if (e.target.closest('.node')) return;
      drag = { x: e.clientX, y: e.clientY };
      svg.setPointerCapture(e.pointerId);
      svg.classList.add('dragging');
    });
    svg.addEventListener('pointermove', (e) => {
      if (!drag) return;
      this.pan(e.clientX - drag.x, e.clientY - drag.y);
      drag = { x: e.clientX, y: e.clientY };
    });
    const end = () => {
      drag = null;
      svg.classList.remove('dragging');
    };
    svg.addEventListener('pointerup', end);
    svg.addEventListener('pointercancel', end);
    svg.addEventListener('keydown', (e) => {
      if (e.target !== svg) return;
      const step = 40;
      const keys = {
        '+': () => this.zoom(1.2), '=': () => this.zoom(1.2), '-': () => this.zoom(1 / 1.2), 0: () => this.fit(),
        ArrowLeft: () => this.pan(step, 0), ArrowRight: () => this.pan(-step, 0), ArrowUp: () => this.pan(0, step), ArrowDown: () => this.pan(0, -step),
      };
      if (keys[e.key]) {
        e.preventDefault();
        keys[e.key]();
      }
    });
  }
}
