// ui.js: what every page of the console is built with: DOM helpers (h,
// fill, never HTML strings), links and navigation, dates, status badges,
// tabs, dialogs, the graph's toolbar, and the probe browser tests read
// (window.stepwell).

import { ApiError, hooks } from './api.js';
import { STATUS_ICONS } from './graph.js';
import { highlight, pretty } from './json.js';
import { toMillis } from './status.js';

/** mainElement is <main>; dialog the one modal dialog; banner the message line. */
export const mainElement = document.getElementById('main');
export const dialog = document.getElementById('dialog');

// Each page is built in a container of its own (newPage): a page still
// loading when the user leaves writes on into its container, which is no
// longer on screen, never into the next page.
let current = null;

/** newPage puts a fresh container in <main> and returns it. */
export function newPage() {
  current = document.createElement('div');
  current.className = 'page';
  mainElement.replaceChildren(current);
  for (const k of Object.keys(mainElement.dataset)) delete mainElement.dataset[k];
  return current;
}

/** currentPage is the container of the page being shown. */
export function currentPage() {
  return current;
}

/** mark sets a data attribute of <main> (read by browser tests) while page is shown. */
export function mark(page, key, value) {
  if (page === current) mainElement.dataset[key] = value;
}
const banner = document.getElementById('banner');

/** probe (window.stepwell) is what browser tests read: timings and the actions sent. */
export const probe = (window.stepwell = { timings: {}, actions: [] });
hooks.onRequest = (action) => probe.actions.push(action);
hooks.onAuthError = (err) => showBanner(`${err.message}. This server requires signed requests: sign in with an access key.`, true);

let leaving = []; // run when the page changes

/** onLeave registers fn to run when the user leaves the page. */
export function onLeave(fn) {
  leaving.push(fn);
}

/** leave runs and forgets the functions registered with onLeave. */
export function leave() {
  for (const f of leaving) f();
  leaving = [];
}

/** navigate goes to href in the console (app.js renders it). */
export function navigate(href) {
  history.pushState(null, '', href);
  window.dispatchEvent(new Event('stepwell:navigate'));
}

export function h(tag, attrs, ...kids) {
  const n = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) n.addEventListener(k.slice(2), v);
    else if (k === 'class') n.className = v;
    else if (k === 'dataset') Object.assign(n.dataset, v);
    else if (v === true) n.setAttribute(k, '');
    else n.setAttribute(k, v);
  }
  for (const kid of kids.flat()) {
    if (kid === undefined || kid === null || kid === false) continue;
    n.appendChild(typeof kid === 'object' ? kid : document.createTextNode(String(kid)));
  }
  return n;
}

/** fill replaces node's children (skipping null, undefined and false). */
export function fill(node, ...kids) {
  node.replaceChildren(...kids.flat(Infinity).filter((k) => k !== null && k !== undefined && k !== false)
    .map((k) => (typeof k === 'object' ? k : document.createTextNode(String(k)))));
}

export function a(href, text, attrs = {}) {
  return h('a', { href, 'data-link': true, ...attrs }, text);
}

export const machineHref = (arn) => '/state-machines/' + encodeURIComponent(arn);
export const executionHref = (arn) => '/executions/' + encodeURIComponent(arn);

export function fmtDate(ts) {
  const ms = toMillis(ts);
  if (ms === undefined) return '';
  return new Date(ms).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
}

export const EXEC_STATUS = {
  RUNNING: 'in-progress', SUCCEEDED: 'succeeded', FAILED: 'failed', TIMED_OUT: 'failed', ABORTED: 'aborted',
  PENDING_REDRIVE: 'in-progress',
};

export function badge(status) {
  const s = EXEC_STATUS[status] || 'not-started';
  return h('span', { class: 'badge', 'data-status': s }, h('span', { 'aria-hidden': 'true' }, STATUS_ICONS[s] || '•'), ' ', status.replace('_', ' ').toLowerCase());
}

export function errorBox(err) {
  return h('div', { class: 'error', role: 'alert' }, err instanceof ApiError ? err.message : String(err?.message || err));
}

export function showBanner(text, isError) {
  banner.textContent = text;
  banner.className = isError ? 'banner error' : 'banner';
  banner.hidden = !text;
}

export function setTitle(t) {
  document.title = t ? `${t} · Stepwell` : 'Stepwell';
}

export function codeBlock(text, cls = '') {
  const pre = h('pre', { class: 'code ' + cls, tabindex: '0' });
  highlight(pre, pretty(text));
  return pre;
}

export function shortArn(arn) {
  return String(arn || '').split(':').slice(-1)[0];
}

/** tabs builds a tab list; panels are built on first show. */
export function tabs(label, defs, initial) {
  const list = h('div', { class: 'tabs', role: 'tablist', 'aria-label': label });
  const box = h('div', { class: 'tab-panels' });
  const panels = new Map();
  const buttons = new Map();
  function show(id) {
    for (const [k, b] of buttons) {
      b.setAttribute('aria-selected', String(k === id));
      b.tabIndex = k === id ? 0 : -1;
    }
    for (const [k, p] of panels) p.hidden = k !== id;
    if (!panels.has(id)) {
      const d = defs.find((x) => x.id === id);
      const p = h('div', { role: 'tabpanel', id: 'panel-' + id, 'aria-labelledby': 'tab-' + id, class: 'tab-panel' });
      panels.set(id, p);
      box.appendChild(p);
      d.build(p);
    }
    const d = defs.find((x) => x.id === id);
    if (d.shown) d.shown(panels.get(id));
  }
  defs.forEach((d, i) => {
    const b = h('button', {
      type: 'button', role: 'tab', id: 'tab-' + d.id, 'aria-controls': 'panel-' + d.id, class: 'tab',
      onclick: () => show(d.id),
      onkeydown: (e) => {
        const dir = e.key === 'ArrowRight' ? 1 : e.key === 'ArrowLeft' ? -1 : 0;
        if (!dir) return;
        const next = defs[(i + dir + defs.length) % defs.length].id;
        show(next);
        buttons.get(next).focus();
      },
    }, d.label);
    buttons.set(d.id, b);
    list.appendChild(b);
  });
  show(initial || defs[0].id);
  return { el: h('div', { class: 'tabbed' }, list, box), show };
}

/** modal shows the dialog with content; resolves with the value passed to close. */
export function modal(title, build) {
  return new Promise((resolve) => {
    dialog.textContent = '';
    const close = (v) => {
      dialog.close();
      resolve(v);
    };
    const form = h('form', { method: 'dialog', class: 'modal', onsubmit: (e) => e.preventDefault() }, h('h2', {}, title));
    build(form, close);
    dialog.appendChild(form);
    dialog.onclose = () => resolve(undefined);
    dialog.showModal();
    const first = form.querySelector('input, textarea, select, button');
    if (first) first.focus();
  });
}

export function confirmAction(title, text, action) {
  return modal(title, (form, close) => {
    form.append(h('p', {}, text), h('div', { class: 'actions' },
      h('button', { type: 'button', class: 'ghost', onclick: () => close(false) }, 'Cancel'),
      h('button', { type: 'button', class: 'primary', id: 'confirm', onclick: () => close(true) }, action)));
  });
}

/** graphToolbar is the zoom and fit buttons of a graph. */
export function graphToolbar(graph) {
  return h('div', { class: 'graph-tools', role: 'toolbar', 'aria-label': 'Graph view' },
    h('button', { type: 'button', class: 'ghost', 'aria-label': 'Zoom in', onclick: () => graph.zoom(1.25) }, '+'),
    h('button', { type: 'button', class: 'ghost', 'aria-label': 'Zoom out', onclick: () => graph.zoom(0.8) }, '−'),
    h('button', { type: 'button', class: 'ghost', id: 'fit', onclick: () => graph.fit() }, 'Fit'),
    h('span', { class: 'muted small' }, 'Drag to pan, wheel to zoom; focused: arrows, +, −, 0'));
}
