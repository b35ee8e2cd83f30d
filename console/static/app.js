// app.js: the console's pages and router. Every page reads through the
// public Step Functions API (api.js); the only requests that write
// (StartExecution, StopExecution, RedriveExecution, CreateStateMachine,
// UpdateStateMachine) are sent from a button the user clicked.
//
// Addresses (stable, for people and browser tests):
//   /  and /state-machines            the state machines
//   /state-machines/<stateMachineArn> one machine (ARN URL-encoded)
//   /executions/<executionArn>        one execution
//   /editor[?stateMachineArn=<arn>]   write, validate, create or update
//   /activities                       the activities
//   /map-runs/<executionArn>          an execution's Map Runs

import { all, ApiError, call, hooks } from './api.js';
import { allStates, descendants, Graph, STATUS_ICONS, STATUS_LABELS } from './graph.js';
import { highlight, lineOf, pointerLines, pretty } from './json.js';
import { credentials, signIn, signOut } from './sigv4.js';
import { aggregate, analyze, formatDuration, STATUSES, toMillis } from './status.js';

const main = document.getElementById('main');
const dialog = document.getElementById('dialog');
const banner = document.getElementById('banner');

/** window.stepwell is what browser tests read: timings and the actions sent. */
const probe = (window.stepwell = { timings: {}, actions: [] });
hooks.onRequest = (action) => probe.actions.push(action);
hooks.onAuthError = (err) => showBanner(`${err.message}. This server requires signed requests: sign in with an access key.`, true);

let leaving = []; // run when the page changes

// ---------------------------------------------------------------- helpers

function h(tag, attrs, ...kids) {
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
function fill(node, ...kids) {
  node.replaceChildren(...kids.flat(Infinity).filter((k) => k !== null && k !== undefined && k !== false)
    .map((k) => (typeof k === 'object' ? k : document.createTextNode(String(k)))));
}

function a(href, text, attrs = {}) {
  return h('a', { href, 'data-link': true, ...attrs }, text);
}

const machineHref = (arn) => '/state-machines/' + encodeURIComponent(arn);
const executionHref = (arn) => '/executions/' + encodeURIComponent(arn);

function fmtDate(ts) {
  const ms = toMillis(ts);
  if (ms === undefined) return '';
  return new Date(ms).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
}

const EXEC_STATUS = {
  RUNNING: 'in-progress', SUCCEEDED: 'succeeded', FAILED: 'failed', TIMED_OUT: 'failed', ABORTED: 'aborted',
  PENDING_REDRIVE: 'in-progress',
};

function badge(status) {
  const s = EXEC_STATUS[status] || 'not-started';
  return h('span', { class: 'badge', 'data-status': s }, h('span', { 'aria-hidden': 'true' }, STATUS_ICONS[s] || '•'), ' ', status.replace('_', ' ').toLowerCase());
}

function errorBox(err) {
  return h('div', { class: 'error', role: 'alert' }, err instanceof ApiError ? err.message : String(err?.message || err));
}

function showBanner(text, isError) {
  banner.textContent = text;
  banner.className = isError ? 'banner error' : 'banner';
  banner.hidden = !text;
}

function setTitle(t) {
  document.title = t ? `${t} · Stepwell` : 'Stepwell';
}

function codeBlock(text, cls = '') {
  const pre = h('pre', { class: 'code ' + cls, tabindex: '0' });
  highlight(pre, pretty(text));
  return pre;
}

function shortArn(arn) {
  return String(arn || '').split(':').slice(-1)[0];
}

/** tabs builds a tab list; panels are built on first show. */
function tabs(label, defs, initial) {
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
function modal(title, build) {
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

function confirmAction(title, text, action) {
  return modal(title, (form, close) => {
    form.append(h('p', {}, text), h('div', { class: 'actions' },
      h('button', { type: 'button', class: 'ghost', onclick: () => close(false) }, 'Cancel'),
      h('button', { type: 'button', class: 'primary', id: 'confirm', onclick: () => close(true) }, action)));
  });
}

// ---------------------------------------------------------------- router

const routes = [
  [/^\/(state-machines\/?)?$/, machinesPage],
  [/^\/state-machines\/(.+)$/, (m) => machinePage(decodeURIComponent(m[1]))],
  [/^\/executions\/(.+)$/, (m) => executionPage(decodeURIComponent(m[1]))],
  [/^\/editor\/?$/, () => editorPage(new URLSearchParams(location.search).get('stateMachineArn'))],
  [/^\/activities\/?$/, activitiesPage],
  [/^\/map-runs\/(.+)$/, (m) => mapRunsPage(decodeURIComponent(m[1]))],
];

async function render() {
  for (const f of leaving) f();
  leaving = [];
  showBanner('');
  main.textContent = '';
  delete main.dataset.ready;
  for (const n of document.querySelectorAll('header nav a')) {
    n.toggleAttribute('aria-current', location.pathname.startsWith(n.getAttribute('href')));
  }
  for (const [re, page] of routes) {
    const m = re.exec(location.pathname);
    if (m) {
      try {
        await page(m);
      } catch (err) {
        main.appendChild(errorBox(err));
      }
      return;
    }
  }
  setTitle('Not found');
  main.append(h('h1', {}, 'Not found'), h('p', {}, a('/', 'Back to the state machines')));
}

function go(href) {
  history.pushState(null, '', href);
  render();
  main.focus({ preventScroll: true });
}

document.addEventListener('click', (e) => {
  const link = e.target.closest && e.target.closest('a[data-link]');
  if (!link || e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
  e.preventDefault();
  go(link.getAttribute('href'));
});
window.addEventListener('popstate', render);

// ---------------------------------------------------------------- theme, sign-in

const themeButton = document.getElementById('theme');
function applyTheme(t) {
  document.documentElement.dataset.theme = t;
  themeButton.textContent = t === 'dark' ? '☀ Light' : '☾ Dark';
}
applyTheme(localStorage.getItem('stepwell.theme') || (matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light'));
themeButton.addEventListener('click', () => {
  const t = document.documentElement.dataset.theme === 'dark' ? 'light' : 'dark';
  localStorage.setItem('stepwell.theme', t);
  applyTheme(t);
});

const signinButton = document.getElementById('signin');
function updateSignin() {
  const c = credentials();
  signinButton.textContent = c ? `Signed in: ${c.accessKeyId}` : 'Sign in';
}
updateSignin();
signinButton.addEventListener('click', () => modal('Sign in', (form, close) => {
  const c = credentials() || {};
  const field = (label, name, attrs = {}) => h('label', {}, label, h('input', { name, value: c[name] || '', autocomplete: 'off', spellcheck: 'false', ...attrs }));
  fill(form, form.firstChild,
    h('p', { class: 'muted' }, 'When the server verifies signatures, the console signs every request with SigV4 like an SDK. The key stays in this tab (sessionStorage) and is only used to sign.'),
    !window.isSecureContext && h('p', { class: 'error' }, 'Signing needs a secure context (HTTPS or a loopback address).'),
    field('Access key ID', 'accessKeyId', { required: true }),
    field('Secret access key', 'secretAccessKey', { type: 'password', required: true }),
    field('Session token (optional)', 'sessionToken'),
    field('Region', 'region', { value: c.region || 'us-east-1' }),
    h('div', { class: 'actions' },
      h('button', { type: 'button', class: 'ghost', id: 'signout', onclick: () => { signOut(); updateSignin(); close(); render(); } }, 'Sign out'),
      h('button', { type: 'button', class: 'ghost', onclick: () => close() }, 'Cancel'),
      h('button', {
        type: 'button', class: 'primary', id: 'signin-submit', onclick: () => {
          const v = Object.fromEntries(new FormData(form));
          if (!v.accessKeyId || !v.secretAccessKey) return;
          signIn({ accessKeyId: v.accessKeyId.trim(), secretAccessKey: v.secretAccessKey.trim(), sessionToken: v.sessionToken.trim() || undefined, region: v.region.trim() || 'us-east-1' });
          updateSignin();
          close();
          render();
        },
      }, 'Sign in')));
}));

// ---------------------------------------------------------------- state machines

async function machinesPage() {
  setTitle('State machines');
  const search = h('input', { type: 'search', placeholder: 'Search by name', 'aria-label': 'Search state machines', class: 'search' });
  const tbody = h('tbody');
  const count = h('span', { class: 'muted' });
  main.append(
    h('div', { class: 'page-head' }, h('h1', {}, 'State machines'), count, h('span', { class: 'spacer' }),
      search, a('/editor', 'Create state machine', { class: 'button primary' })),
    h('table', { class: 'list', id: 'machines' },
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Name'), h('th', { scope: 'col' }, 'Type'), h('th', { scope: 'col' }, 'Created'),
        h('th', { scope: 'col' }, 'Running'), h('th', { scope: 'col' }, 'Failed'))),
      tbody));
  const machines = await all('ListStateMachines', { maxResults: 1000 }, 'stateMachines');
  count.textContent = `${machines.length} total`;
  if (!machines.length) {
    tbody.append(h('tr', {}, h('td', { colspan: 5, class: 'muted' }, 'No state machines yet. ', a('/editor', 'Create one'), ' or use the API.')));
  }
  const rows = machines.map((m) => {
    const running = h('td', { class: 'num', 'data-count': 'running' }, '…');
    const failed = h('td', { class: 'num', 'data-count': 'failed' }, '…');
    const tr = h('tr', { dataset: { name: m.name } },
      h('td', {}, a(machineHref(m.stateMachineArn), m.name)), h('td', {}, m.type), h('td', {}, fmtDate(m.creationDate)), running, failed);
    tbody.appendChild(tr);
    return { m, tr, running, failed };
  });
  search.addEventListener('input', () => {
    const q = search.value.trim().toLowerCase();
    for (const r of rows) r.tr.hidden = q !== '' && !r.m.name.toLowerCase().includes(q);
  });
  main.dataset.ready = 'true';
  // Counts of running and failed executions, a few machines at a time.
  let stop = false;
  leaving.push(() => (stop = true));
  const countOf = async (arn, statusFilter) => {
    const r = await call('ListExecutions', { stateMachineArn: arn, statusFilter, maxResults: 1000 });
    return (r.executions || []).length + (r.nextToken ? '+' : '');
  };
  const queue = [...rows];
  await Promise.all([0, 1, 2, 3].map(async () => {
    while (queue.length && !stop) {
      const r = queue.shift();
      try {
        const [run, fail] = await Promise.all([countOf(r.m.stateMachineArn, 'RUNNING'), countOf(r.m.stateMachineArn, 'FAILED')]);
        r.running.textContent = run;
        r.failed.textContent = fail;
        if (String(fail) !== '0') r.failed.classList.add('bad');
      } catch {
        r.running.textContent = r.failed.textContent = '?';
      }
    }
  }));
}

// ---------------------------------------------------------------- one state machine

async function machinePage(arn) {
  const sm = await call('DescribeStateMachine', { stateMachineArn: arn });
  setTitle(sm.name);
  // A version (…:stateMachine:NAME:3) or an alias (…:NAME:live) of a machine.
  const parts = arn.split(':');
  const qualified = parts.length > 7 ? parts.slice(7).join(':') : '';
  const base = parts.slice(0, 7).join(':');
  let def = {};
  try {
    def = JSON.parse(sm.definition);
  } catch { /* shown as text */ }
  const graphBox = h('div', { class: 'graph', id: 'graph' });
  const graph = new Graph(graphBox, { onSelect: (name) => graph.select(name) });
  main.append(
    h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' }, a('/state-machines', 'State machines'), ' / ',
      qualified ? [a(machineHref(base), sm.name), ' / ', qualified] : sm.name),
    h('div', { class: 'page-head' }, h('h1', {}, qualified ? `${sm.name}:${qualified}` : sm.name), h('span', { class: 'tag' }, sm.type), h('span', { class: 'spacer' }),
      a('/editor?stateMachineArn=' + encodeURIComponent(arn), 'Edit', { class: 'button' }),
      h('button', { type: 'button', class: 'primary', id: 'start-execution', onclick: () => startDialog(sm) }, 'Start execution')),
    h('dl', { class: 'meta' },
      h('dt', {}, 'ARN'), h('dd', { class: 'mono' }, sm.stateMachineArn),
      h('dt', {}, 'Created'), h('dd', {}, fmtDate(sm.creationDate)),
      h('dt', {}, 'Role'), h('dd', { class: 'mono' }, sm.roleArn || ''),
      sm.description && [h('dt', {}, 'Description'), h('dd', {}, sm.description)]),
    tabs('State machine', [
      { id: 'graph', label: 'Graph', build: (p) => p.append(graphToolbar(graph), graphBox), shown: () => { if (!graph.svg) graph.render(def); } },
      { id: 'definition', label: 'Definition', build: (p) => p.append(codeBlock(sm.definition, 'definition')) },
    ]).el,
    h('h2', {}, 'Executions'),
    await executionsTable(arn),
    h('h2', {}, 'Versions and aliases'),
    qualified ? h('p', {}, `This is ${/^\d+$/.test(qualified) ? 'version' : 'alias'} ${qualified} of `, a(machineHref(base), sm.name), '.')
      : await versionsSection(arn));
  graph.fit(); // laid out before it was on the page
  probe.timings.layoutMs = graph.layoutMs;
  main.dataset.ready = 'true';
}

function graphToolbar(graph) {
  return h('div', { class: 'graph-tools', role: 'toolbar', 'aria-label': 'Graph view' },
    h('button', { type: 'button', class: 'ghost', 'aria-label': 'Zoom in', onclick: () => graph.zoom(1.25) }, '+'),
    h('button', { type: 'button', class: 'ghost', 'aria-label': 'Zoom out', onclick: () => graph.zoom(0.8) }, '−'),
    h('button', { type: 'button', class: 'ghost', id: 'fit', onclick: () => graph.fit() }, 'Fit'),
    h('span', { class: 'muted small' }, 'Drag to pan, wheel to zoom; focused: arrows, +, −, 0'));
}

async function executionsTable(arn) {
  const filter = h('select', { 'aria-label': 'Status filter', id: 'status-filter' },
    ['', 'RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED', 'PENDING_REDRIVE'].map((s) => h('option', { value: s }, s ? s.replace('_', ' ').toLowerCase() : 'all statuses')));
  const tbody = h('tbody');
  const prev = h('button', { type: 'button', class: 'ghost', disabled: true }, '‹ Previous');
  const next = h('button', { type: 'button', class: 'ghost', disabled: true }, 'Next ›');
  const pageLabel = h('span', { class: 'muted' });
  const tokens = [undefined];
  let page = 0;
  async function load() {
    const r = await call('ListExecutions', { stateMachineArn: arn, maxResults: 20, ...(filter.value ? { statusFilter: filter.value } : {}), ...(tokens[page] ? { nextToken: tokens[page] } : {}) });
    tbody.textContent = '';
    for (const x of r.executions || []) {
      tbody.append(h('tr', {}, h('td', {}, a(executionHref(x.executionArn), x.name)), h('td', {}, badge(x.status)),
        h('td', {}, fmtDate(x.startDate)), h('td', {}, x.stopDate ? fmtDate(x.stopDate) : ''),
        h('td', {}, x.stopDate ? formatDuration(toMillis(x.stopDate) - toMillis(x.startDate)) : '')));
    }
    if (!(r.executions || []).length) tbody.append(h('tr', {}, h('td', { colspan: 5, class: 'muted' }, 'No executions.')));
    tokens[page + 1] = r.nextToken;
    prev.disabled = page === 0;
    next.disabled = !r.nextToken;
    pageLabel.textContent = `Page ${page + 1}`;
  }
  filter.addEventListener('change', () => {
    tokens.length = 1;
    page = 0;
    load();
  });
  prev.addEventListener('click', () => {
    page--;
    load();
  });
  next.addEventListener('click', () => {
    page++;
    load();
  });
  await load();
  return h('div', { class: 'section' },
    h('div', { class: 'toolbar' }, filter, h('span', { class: 'spacer' }), prev, pageLabel, next),
    h('table', { class: 'list', id: 'executions' },
      h('thead', {}, h('tr', {}, ['Name', 'Status', 'Started', 'Ended', 'Duration'].map((c) => h('th', { scope: 'col' }, c)))), tbody));
}

async function versionsSection(arn) {
  const box = h('div', { class: 'section two' });
  try {
    const versions = await all('ListStateMachineVersions', { stateMachineArn: arn }, 'stateMachineVersions', { limit: 200 });
    const aliases = await all('ListStateMachineAliases', { stateMachineArn: arn }, 'stateMachineAliases', { limit: 200 });
    const described = await Promise.all(aliases.map((x) => call('DescribeStateMachineAlias', { stateMachineAliasArn: x.stateMachineAliasArn }).catch(() => x)));
    box.append(
      h('table', { class: 'list', id: 'versions' }, h('caption', {}, 'Versions'),
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Version'), h('th', { scope: 'col' }, 'Created'))),
        h('tbody', {}, versions.length ? versions.map((v) => h('tr', {}, h('td', {}, a(machineHref(v.stateMachineVersionArn), shortArn(v.stateMachineVersionArn))), h('td', {}, fmtDate(v.creationDate))))
          : h('tr', {}, h('td', { colspan: 2, class: 'muted' }, 'No versions published.')))),
      h('table', { class: 'list', id: 'aliases' }, h('caption', {}, 'Aliases'),
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Alias'), h('th', { scope: 'col' }, 'Routing'))),
        h('tbody', {}, described.length ? described.map((x) => h('tr', {}, h('td', {}, a(machineHref(x.stateMachineAliasArn), x.name || shortArn(x.stateMachineAliasArn))),
          h('td', {}, (x.routingConfiguration || []).map((r) => `version ${shortArn(r.stateMachineVersionArn)}: ${r.weight}%`).join(', '))))
          : h('tr', {}, h('td', { colspan: 2, class: 'muted' }, 'No aliases.')))));
  } catch (err) {
    box.append(errorBox(err));
  }
  return box;
}

function startDialog(sm) {
  return modal(`Start an execution of ${sm.name}`, (form, close) => {
    const name = h('input', { name: 'name', id: 'execution-name', placeholder: 'generated when empty', autocomplete: 'off', spellcheck: 'false' });
    const input = h('textarea', { name: 'input', id: 'execution-input', rows: 10, spellcheck: 'false', class: 'mono' }, '{\n  \n}');
    const status = h('p', { class: 'muted', role: 'status' }, 'Input: a JSON value.');
    const start = h('button', { type: 'button', class: 'primary', id: 'start' }, 'Start execution');
    input.addEventListener('input', () => {
      const r = pointerLines(input.value);
      status.textContent = r.error ? `Line ${r.error.line}, column ${r.error.column}: ${r.error.message}` : 'Valid JSON.';
      status.className = r.error ? 'error' : 'muted';
      start.disabled = !!r.error;
    });
    start.addEventListener('click', async () => {
      start.disabled = true;
      try {
        const body = { stateMachineArn: sm.stateMachineArn, input: input.value.trim() || '{}' };
        if (name.value.trim()) body.name = name.value.trim();
        const r = await call('StartExecution', body);
        close(true);
        go(executionHref(r.executionArn));
      } catch (err) {
        status.textContent = err.message;
        status.className = 'error';
        start.disabled = false;
      }
    });
    form.append(h('label', {}, 'Name', name), h('label', {}, 'Input', input), status,
      h('div', { class: 'actions' }, h('button', { type: 'button', class: 'ghost', onclick: () => close(false) }, 'Cancel'), start));
  });
}

// ---------------------------------------------------------------- one execution

const ROW_H = 28;

async function executionPage(arn) {
  const t0 = performance.now();
  let stopped = false;
  const controller = new AbortController();
  leaving.push(() => {
    stopped = true;
    controller.abort();
  });
  const signal = controller.signal;
  const [desc0, smx, first] = await Promise.all([
    call('DescribeExecution', { executionArn: arn }, { signal }),
    call('DescribeStateMachineForExecution', { executionArn: arn }, { signal }).catch(() => null),
    call('GetExecutionHistory', { executionArn: arn, maxResults: 1000, includeExecutionData: true }, { signal }),
  ]);
  let desc = desc0;
  setTitle(desc.name);
  let def = {};
  try {
    def = JSON.parse(smx?.definition || '{}');
  } catch { /* no graph */ }
  const nested = descendants(def);
  const stateDefs = allStates(def);
  const inside = (name) => nested.get(name) || [];
  const events = [...(first.events || [])];
  let complete = !first.nextToken;
  let analysis = analyze(events, inside);
  let selected = null;
  let timelineAt = null; // null: live (the whole history)

  // Header and actions.
  const statusBox = h('span', { id: 'execution-status' });
  const actions = h('div', { class: 'actions-inline' });
  const meta = h('dl', { class: 'meta' });
  main.append(
    h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' }, a('/state-machines', 'State machines'), ' / ',
      a(machineHref(desc.stateMachineArn), shortArn(desc.stateMachineArn)), ' / ', desc.name),
    h('div', { class: 'page-head' }, h('h1', {}, desc.name), statusBox, h('span', { class: 'spacer' }), actions),
    meta);

  // Graph, legend, details.
  const graphBox = h('div', { class: 'graph', id: 'graph' });
  const details = h('aside', { class: 'details', id: 'state-details', 'aria-live': 'polite' }, h('p', { class: 'muted' }, 'Select a state to see its input, output, error and retries.'));
  const graph = new Graph(graphBox, { onSelect: (name) => selectState(name) });
  const slider = h('input', { type: 'range', min: 0, max: events.length, value: events.length, id: 'timeline', 'aria-label': 'Replay the execution up to an event' });
  const sliderLabel = h('span', { class: 'muted small', id: 'timeline-label' });
  const iterNote = h('span', { class: 'small', id: 'iteration-note', 'aria-live': 'polite' });
  const legend = h('ul', { class: 'legend', 'aria-label': 'Legend' },
    STATUSES.map((s) => h('li', { 'data-status': s }, h('span', { class: 'swatch', 'aria-hidden': 'true' }, STATUS_ICONS[s] || ''), STATUS_LABELS[s])));
  main.append(h('section', { class: 'graph-area', 'aria-label': 'Graph view' },
    h('div', { class: 'graph-col' }, graphToolbar(graph), graphBox,
      h('div', { class: 'timeline' }, h('label', { for: 'timeline' }, 'Timeline'), slider, sliderLabel), legend, iterNote),
    details));

  // Lower tabs: events, table, input/output, definition.
  const eventsView = eventList(() => (timelineAt === null ? events : events.slice(0, timelineAt)), (id) => ownerName(id));
  const tableView = stateTable(() => analysis, (name) => selectState(name));
  const ioBox = h('div', { class: 'io' });
  const lower = tabs('Execution', [
    { id: 'events', label: 'Event view', build: (p) => p.append(eventsView.el), shown: () => eventsView.refresh() },
    { id: 'table', label: 'Table view', build: (p) => p.append(tableView.el), shown: () => tableView.refresh() },
    { id: 'io', label: 'Input and output', build: (p) => p.append(ioBox) },
    { id: 'definition', label: 'Definition', build: (p) => p.append(codeBlock(smx?.definition || '', 'definition')) },
  ]);
  main.append(lower.el);

  function ownerName(id) {
    const e = analysis.owner?.get(id);
    return e ? e.name : '';
  }

  let headerKey = '';
  function drawHeader() {
    fill(statusBox, badge(desc.status));
    const stop = desc.stopDate ? toMillis(desc.stopDate) : undefined;
    fill(meta,
      h('dt', {}, 'ARN'), h('dd', { class: 'mono' }, desc.executionArn),
      h('dt', {}, 'Started'), h('dd', {}, fmtDate(desc.startDate)),
      h('dt', {}, 'Ended'), h('dd', {}, stop ? fmtDate(desc.stopDate) : '—'),
      h('dt', {}, 'Duration'), h('dd', {}, formatDuration((stop || Date.now()) - toMillis(desc.startDate))),
      desc.redriveCount ? [h('dt', {}, 'Redrives'), h('dd', {}, `${desc.redriveCount} (last ${fmtDate(desc.redriveDate)})`)] : null,
      desc.error ? [h('dt', {}, 'Error'), h('dd', { class: 'bad' }, desc.error)] : null,
      desc.cause ? [h('dt', {}, 'Cause'), h('dd', { class: 'cause' }, desc.cause)] : null);
    // Buttons and the input/output are rebuilt only when they change (the
    // poller redraws every second: a button must stay under the pointer
    // and keep the focus).
    const key = [desc.status, desc.redriveCount, complete, hasMapRuns(), desc.output !== undefined, desc.error].join('|');
    if (key === headerKey) return;
    headerKey = key;
    fill(actions,
      desc.status === 'RUNNING' && h('button', { type: 'button', id: 'stop', class: 'danger', onclick: stopExecution }, 'Stop execution'),
      ['FAILED', 'ABORTED', 'TIMED_OUT'].includes(desc.status) && h('button', { type: 'button', id: 'redrive', onclick: redrive }, 'Redrive'),
      h('button', { type: 'button', id: 'export', onclick: exportHistory, disabled: !complete }, 'Export history'),
      hasMapRuns() && a('/map-runs/' + encodeURIComponent(arn), 'Map Runs', { class: 'button' }),
      a('/editor?stateMachineArn=' + encodeURIComponent(desc.stateMachineArn), 'Edit state machine', { class: 'button ghost' }));
    fill(ioBox,
      h('h3', {}, 'Input'), codeBlock(desc.input ?? ''),
      h('h3', {}, 'Output'), desc.output !== undefined ? codeBlock(desc.output) : h('p', { class: 'muted' }, 'No output.'),
      desc.error ? [h('h3', {}, 'Error'), h('p', {}, desc.error), h('h3', {}, 'Cause'), h('pre', { class: 'code' }, desc.cause || '')] : null);
  }

  function hasMapRuns() {
    return events.some((e) => e.type === 'MapRunStarted');
  }

  function recompute() {
    const upto = timelineAt === null ? events : events.slice(0, timelineAt);
    const t = performance.now();
    analysis = analyze(upto, inside);
    probe.timings.analyzeMs = performance.now() - t;
    colour();
    const n = upto.length;
    const last = upto[n - 1];
    sliderLabel.textContent = timelineAt === null ? `Live: all ${events.length} events${complete ? '' : ' loaded so far'}` : `Event ${n} of ${events.length}${last ? ' · ' + fmtDate(last.timestamp) : ''}`;
    if (selected) {
      const st = analysis.states.get(selected);
      const last = st?.entries[st.entries.length - 1];
      const key = [selected, st?.status, st?.entries.length, last?.status, last?.end, timelineAt].join('|');
      if (key !== detailsKey) showDetails(selected);
    }
    eventsView.refresh();
    tableView.refresh();
  }

  // iterationView colours the states of one Map iteration only.
  let iterationView = null; // {map, index}
  function colour() {
    const inView = iterationView ? new Set(nested.get(iterationView.map) || []) : null;
    const entriesOf = (name) => {
      const st = analysis.states.get(name);
      if (!st) return [];
      return inView && inView.has(name) ? st.entries.filter((e) => e.iteration === iterationView.index) : null;
    };
    graph.colour((name) => {
      const only = entriesOf(name);
      return only ? aggregate(only) : analysis.states.get(name)?.status;
    }, (name) => {
      const only = entriesOf(name);
      return only ? only.reduce((n, e) => n + e.retries, 0) : analysis.states.get(name)?.retries;
    });
    fill(iterNote, iterationView ? [`Showing iteration ${iterationView.index} of ${iterationView.map}. `,
      h('button', { type: 'button', class: 'linkish', onclick: () => showIteration(null) }, 'Show all')] : null);
  }
  function showIteration(view) {
    iterationView = view;
    colour();
    if (selected) showDetails(selected);
  }

  let detailsKey = '';
  function selectState(name) {
    selected = name;
    graph.select(name);
    showDetails(name);
  }

  // errorOf: the error and cause of a run of a state. Task failures carry
  // them in their events; a Fail state has them in its definition; a
  // Parallel or Map state that failed (or whose failure was caught) has the
  // error of the nested state that failed.
  function errorOf(e) {
    if (e.error !== undefined || e.cause !== undefined) return { error: e.error, cause: e.cause };
    if (e.status !== 'failed' && e.status !== 'caught') return null;
    const sd = stateDefs.get(e.name) || {};
    if (sd.Type === 'Fail') return { error: sd.Error ?? sd.ErrorPath ?? '', cause: sd.Cause ?? sd.CausePath ?? '' };
    const names = new Set(nested.get(e.name) || []);
    for (const x of analysis.entries) {
      if (x !== e && names.has(x.name) && x.status === 'failed' && x.enteredId > e.enteredId && (!e.exitedId || x.enteredId < e.exitedId)) {
        const inner = errorOf(x);
        if (inner) return inner;
      }
    }
    return null;
  }

  function showDetails(name) {
    const st = analysis.states.get(name);
    const lastEntry = st?.entries[st.entries.length - 1];
    detailsKey = [name, st?.status, st?.entries.length, lastEntry?.status, lastEntry?.end, timelineAt].join('|');
    const sd = stateDefs.get(name) || {};
    const status = st?.status || 'not-started';
    const entries = st?.entries || [];
    const iterSelect = entries.length > 1 ? h('select', { 'aria-label': 'Which time the state ran', id: 'entry-select' },
      entries.map((e, i) => h('option', { value: i }, e.iteration !== undefined ? `Iteration ${e.iteration}` : `Run ${i + 1}`, ` (${STATUS_LABELS[e.status].toLowerCase()})`))) : null;
    const body = h('div', {});
    const showEntry = (e) => {
      if (!e) {
        fill(body, h('p', { class: 'muted' }, 'Not run yet.'));
        return;
      }
      const err = errorOf(e);
      fill(body, 
        h('dl', { class: 'meta compact' },
          h('dt', {}, 'Status'), h('dd', { 'data-status': e.status, class: 'status-text' }, STATUS_ICONS[e.status] + ' ' + STATUS_LABELS[e.status]),
          h('dt', {}, 'Started'), h('dd', {}, e.start ? fmtDate(e.start / 1000) : ''),
          h('dt', {}, 'Duration'), h('dd', {}, e.end ? formatDuration(e.end - e.start) : e.status === 'in-progress' ? 'running' : ''),
          h('dt', {}, 'Retries'), h('dd', { id: 'state-retries' }, String(e.retries)),
          e.resource ? [h('dt', {}, 'Resource'), h('dd', { class: 'mono' }, e.resource)] : null),
        err ? [h('h4', {}, 'Error'), h('p', { class: 'bad', id: 'state-error' }, err.error || ''), h('h4', {}, 'Cause'), h('pre', { class: 'code', id: 'state-cause' }, err.cause || '')] : null,
        h('h4', {}, 'Input'), e.input !== undefined ? codeBlock(e.input, 'state-input') : h('p', { class: 'muted' }, '—'),
        h('h4', {}, 'Output'), e.output !== undefined ? codeBlock(e.output, 'state-output') : h('p', { class: 'muted' }, '—'),
        e.iterations ? iterationsOf(e) : null);
    };
    let shown = entries.length - 1;
    if (iterationView && (nested.get(iterationView.map) || []).includes(name)) {
      const i = entries.findIndex((e) => e.iteration === iterationView.index);
      if (i >= 0) shown = i;
    }
    if (iterSelect) {
      iterSelect.value = String(shown);
      iterSelect.addEventListener('change', () => showEntry(entries[Number(iterSelect.value)]));
    }
    fill(details, 
      h('h3', {}, name), h('p', { class: 'muted' }, `${sd.Type || st?.type || ''} state · `, h('span', { 'data-status': status, class: 'status-text', id: 'selected-status' }, STATUS_ICONS[status] + ' ' + STATUS_LABELS[status]),
        entries.length > 1 ? ` · ran ${entries.length} times` : ''),
      iterSelect ? h('label', {}, 'Show ', iterSelect) : null, body);
    showEntry(entries[shown]);
  }

  function iterationsOf(e) {
    const counts = {};
    for (const it of e.iterations) counts[it.iterationStatus] = (counts[it.iterationStatus] || 0) + 1;
    const its = [...e.iterations].sort((x, y) => x.index - y.index);
    const current = iterationView && iterationView.map === e.name ? String(iterationView.index) : '';
    let pick;
    if (its.length <= 2000) {
      pick = h('select', { id: 'iteration-select', 'aria-label': 'Colour the graph for one iteration' },
        h('option', { value: '' }, 'all iterations'),
        its.map((it) => h('option', { value: it.index }, `${it.index} (${it.iterationStatus})`)));
    } else {
      pick = h('input', { type: 'number', id: 'iteration-select', min: 0, max: its.length - 1, placeholder: 'all', 'aria-label': 'Colour the graph for one iteration' });
    }
    pick.value = current;
    pick.addEventListener('change', () => showIteration(pick.value === '' ? null : { map: e.name, index: Number(pick.value) }));
    return h('div', {}, h('h4', {}, 'Iterations'),
      h('p', {}, Object.entries(counts).map(([s, n]) => `${n} ${s}`).join(', ') || 'none'),
      h('label', {}, 'Colour the graph for', pick),
      e.mapRunArn ? h('p', {}, a('/map-runs/' + encodeURIComponent(arn), 'Map Run and its child executions')) : null);
  }

  slider.addEventListener('input', () => {
    const v = Number(slider.value);
    timelineAt = v >= events.length && complete ? null : v;
    recompute();
  });

  async function stopExecution() {
    if (!(await confirmAction('Stop this execution?', `${desc.name} stops at once; its running states are aborted.`, 'Stop execution'))) return;
    try {
      await call('StopExecution', { executionArn: arn });
      await refresh();
    } catch (err) {
      showBanner(err.message, true);
    }
  }

  async function redrive() {
    if (!(await confirmAction('Redrive this execution?', `${desc.name} restarts from the states that did not succeed.`, 'Redrive'))) return;
    try {
      await call('RedriveExecution', { executionArn: arn });
      await refresh();
      if (!polling) poll();
    } catch (err) {
      showBanner(err.message, true);
    }
  }

  function exportHistory() {
    const blob = new Blob([JSON.stringify({ events }, null, 2)], { type: 'application/json' });
    const url = URL.createObjectURL(blob);
    const link = h('a', { href: url, download: `${desc.name}-history.json` });
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
    probe.exported = events.length;
  }

  // New events: newest first, down to the last one known.
  async function fetchNew() {
    const lastId = events.length ? events[events.length - 1].id : 0;
    const fresh = [];
    let nextToken;
    for (;;) {
      const r = await call('GetExecutionHistory', { executionArn: arn, reverseOrder: true, maxResults: 200, includeExecutionData: true, ...(nextToken ? { nextToken } : {}) }, { signal });
      let done = false;
      for (const e of r.events || []) {
        if (e.id <= lastId) {
          done = true;
          break;
        }
        fresh.push(e);
      }
      nextToken = r.nextToken;
      if (done || !nextToken) break;
    }
    fresh.reverse();
    events.push(...fresh);
    return fresh.length;
  }

  // refresh reads the execution and its new events; calls queue up (the
  // poller and a click may ask at once) so no event is appended twice.
  let refreshing = Promise.resolve();
  function refresh() {
    const next = refreshing.catch(() => {}).then(refreshNow);
    refreshing = next;
    return next;
  }

  async function refreshNow() {
    desc = await call('DescribeExecution', { executionArn: arn }, { signal });
    const n = await fetchNew();
    if (n) {
      slider.max = events.length;
      if (timelineAt === null) slider.value = events.length;
    }
    drawHeader();
    recompute();
  }

  let polling = false;
  async function poll() {
    polling = true;
    while (!stopped) {
      const t = performance.now();
      try {
        await refresh();
      } catch (err) {
        if (stopped) break;
        showBanner('Refreshing failed: ' + err.message, true);
      }
      if (desc.status !== 'RUNNING' && desc.status !== 'PENDING_REDRIVE') break;
      await new Promise((r) => setTimeout(r, Math.max(0, 1000 - (performance.now() - t))));
    }
    polling = false;
    main.dataset.live = 'false';
  }

  drawHeader();
  graph.render(def);
  recompute();
  probe.timings.layoutMs = graph.layoutMs;
  probe.timings.executionFirstPaintMs = performance.now() - t0;
  main.dataset.ready = 'true';

  // The rest of the history, then live updates while it runs.
  let token = first.nextToken;
  let fetchMs = 0;
  while (token && !stopped) {
    const tf = performance.now();
    const r = await call('GetExecutionHistory', { executionArn: arn, maxResults: 1000, includeExecutionData: true, nextToken: token }, { signal });
    fetchMs += performance.now() - tf;
    for (const e of r.events || []) events.push(e);
    token = r.nextToken;
    slider.max = events.length;
    slider.value = events.length;
    eventsView.refresh();
  }
  complete = true;
  slider.max = events.length;
  slider.value = events.length;
  drawHeader();
  const ta = performance.now();
  recompute();
  probe.timings.historyFetchMs = fetchMs;
  probe.timings.recomputeMs = performance.now() - ta;
  probe.timings.executionCompleteMs = performance.now() - t0;
  main.dataset.history = 'complete';
  if (desc.status === 'RUNNING' || desc.status === 'PENDING_REDRIVE') {
    main.dataset.live = 'true';
    poll();
  }
}

/** eventList is the Event view: filters and a virtualised list of rows. */
function eventList(source, ownerName) {
  const kind = h('select', { 'aria-label': 'Event filter', id: 'event-filter' },
    [['all', 'All events'], ['failures', 'Failures'], ['states', 'State entered and exited'], ['tasks', 'Tasks'], ['flow', 'Map, Parallel and execution']].map(([v, l]) => h('option', { value: v }, l)));
  const text = h('input', { type: 'search', placeholder: 'Filter by type or state', 'aria-label': 'Filter events by text', id: 'event-search' });
  const count = h('span', { class: 'muted small', id: 'event-count' });
  const viewport = h('div', { class: 'events', id: 'events', tabindex: '0', role: 'grid', 'aria-label': 'Execution events' });
  const spacer = h('div', { class: 'events-spacer' });
  const rows = h('div', { class: 'events-rows' });
  viewport.append(spacer, rows);
  const detail = h('div', { class: 'event-detail', id: 'event-detail' });
  let list = [];
  let start0 = 0;
  let selectedId = null;
  const tests = {
    all: () => true,
    failures: (e) => /(Failed|TimedOut|Aborted)$/.test(e.type),
    states: (e) => /State(Entered|Exited)$/.test(e.type),
    tasks: (e) => /^(Task|Activity|LambdaFunction)/.test(e.type),
    flow: (e) => /^(Map|Parallel|Execution)/.test(e.type),
  };
  function refresh() {
    const all = source();
    start0 = all.length ? toMillis(all[0].timestamp) : 0;
    const f = tests[kind.value];
    const q = text.value.trim().toLowerCase();
    list = all.filter((e) => f(e) && (!q || e.type.toLowerCase().includes(q) || ownerName(e.id).toLowerCase().includes(q) || String(e.id) === q));
    count.textContent = `${list.length} of ${all.length} events`;
    spacer.style.height = list.length * ROW_H + 'px';
    draw();
  }
  function draw() {
    const top = viewport.scrollTop;
    const height = viewport.clientHeight || 400;
    const from = Math.max(0, Math.floor(top / ROW_H) - 5);
    const to = Math.min(list.length, Math.ceil((top + height) / ROW_H) + 5);
    const frag = document.createDocumentFragment();
    for (let i = from; i < to; i++) {
      const e = list[i];
      const failed = /(Failed|TimedOut)$/.test(e.type);
      const row = h('div', { class: 'event-row' + (failed ? ' bad' : '') + (e.id === selectedId ? ' selected' : ''), role: 'row', 'data-event-id': e.id },
        h('span', { class: 'c-id', role: 'gridcell' }, e.id), h('span', { class: 'c-type', role: 'gridcell' }, e.type),
        h('span', { class: 'c-state', role: 'gridcell' }, ownerName(e.id)),
        h('span', { class: 'c-time', role: 'gridcell' }, '+' + formatDuration(toMillis(e.timestamp) - start0)));
      row.style.top = i * ROW_H + 'px';
      row.addEventListener('click', () => choose(e));
      frag.appendChild(row);
    }
    fill(rows, frag);
    viewport.dataset.loaded = String(list.length > 0 || source().length === 0);
  }
  function choose(e) {
    selectedId = e.id;
    const pre = h('pre', { class: 'code' });
    highlight(pre, JSON.stringify(e, null, 2));
    fill(detail, h('h4', {}, `Event ${e.id}: ${e.type}`), pre);
    draw();
  }
  viewport.addEventListener('scroll', () => requestAnimationFrame(draw));
  viewport.addEventListener('keydown', (ev) => {
    if (ev.key !== 'ArrowDown' && ev.key !== 'ArrowUp' && ev.key !== 'Enter') return;
    ev.preventDefault();
    let i = list.findIndex((x) => x.id === selectedId);
    if (ev.key === 'ArrowDown') i = Math.min(list.length - 1, i + 1);
    else if (ev.key === 'ArrowUp') i = Math.max(0, i - 1);
    if (i < 0 || !list[i]) return;
    if (i * ROW_H < viewport.scrollTop) viewport.scrollTop = i * ROW_H;
    if ((i + 1) * ROW_H > viewport.scrollTop + viewport.clientHeight) viewport.scrollTop = (i + 1) * ROW_H - viewport.clientHeight;
    choose(list[i]);
  });
  kind.addEventListener('change', refresh);
  let timer;
  text.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(refresh, 150);
  });
  const head = h('div', { class: 'event-row head', role: 'row' }, ['ID', 'Type', 'State', 'Elapsed'].map((c, i) => h('span', { class: ['c-id', 'c-type', 'c-state', 'c-time'][i], role: 'columnheader' }, c)));
  const el = h('div', { class: 'event-view' }, h('div', { class: 'toolbar' }, kind, text, h('span', { class: 'spacer' }), count), head, viewport, detail);
  return { el, refresh };
}

/** stateTable is the Table view: one row per time a state ran, sortable. */
function stateTable(getAnalysis, onSelect) {
  const cols = [
    ['name', 'State'], ['type', 'Type'], ['status', 'Status'], ['start', 'Started'], ['duration', 'Duration'],
  ];
  let sortBy = 'start';
  let dir = 1;
  const tbody = h('tbody');
  const headRow = h('tr');
  const table = h('table', { class: 'list', id: 'state-table' }, h('thead', {}, headRow), tbody);
  function refresh() {
    // Only while shown: the tab's "shown" refreshes it when it opens.
    if (!table.isConnected || table.closest('[hidden]')) return;
    fill(headRow, ...cols.map(([k, label]) => h('th', { scope: 'col', 'aria-sort': k === sortBy ? (dir > 0 ? 'ascending' : 'descending') : 'none' },
      h('button', { type: 'button', class: 'sort', 'data-sort': k, onclick: () => { dir = sortBy === k ? -dir : 1; sortBy = k; refresh(); } }, label, k === sortBy ? (dir > 0 ? ' ▲' : ' ▼') : ''))));
    const an = getAnalysis();
    const rows = an.entries.map((e) => ({ e, name: e.name, type: e.type, status: e.status, start: e.start || 0, duration: e.end ? e.end - e.start : Infinity }));
    rows.sort((x, y) => (x[sortBy] < y[sortBy] ? -dir : x[sortBy] > y[sortBy] ? dir : 0));
    const shown = rows.slice(0, 2000);
    fill(tbody, ...shown.map((r) => h('tr', { 'data-state-row': r.name },
      h('td', {}, h('button', { type: 'button', class: 'linkish', onclick: () => onSelect(r.name) }, r.name), r.e.iteration !== undefined ? h('span', { class: 'muted small' }, ` #${r.e.iteration}`) : null),
      h('td', {}, r.type), h('td', { 'data-status': r.status, class: 'status-text' }, STATUS_ICONS[r.status] + ' ' + STATUS_LABELS[r.status]),
      h('td', {}, r.e.start ? new Date(r.e.start).toLocaleTimeString() : ''), h('td', {}, r.e.end ? formatDuration(r.e.end - r.e.start) : ''))));
    if (rows.length > shown.length) tbody.append(h('tr', {}, h('td', { colspan: 5, class: 'muted' }, `${rows.length - shown.length} more not shown`)));
  }
  return { el: table, refresh };
}

// ---------------------------------------------------------------- editor

const SAMPLE = `{
  "Comment": "A new state machine",
  "StartAt": "Hello",
  "States": {
    "Hello": {
      "Type": "Pass",
      "Result": {"greeting": "Hello"},
      "Next": "Done"
    },
    "Done": {
      "Type": "Succeed"
    }
  }
}`;

async function editorPage(arn) {
  setTitle('Editor');
  let sm = null;
  if (arn) sm = await call('DescribeStateMachine', { stateMachineArn: arn });
  const text = h('textarea', { class: 'editor-text', id: 'definition', spellcheck: 'false', wrap: 'off', 'aria-label': 'Definition (Amazon States Language JSON)', autocapitalize: 'off' });
  text.value = sm ? pretty(sm.definition) : SAMPLE;
  const hl = h('pre', { class: 'editor-hl', 'aria-hidden': 'true' });
  const gutter = h('div', { class: 'editor-gutter', 'aria-hidden': 'true' });
  const diagList = h('ul', { class: 'diagnostics', id: 'diagnostics', 'aria-live': 'polite' });
  const result = h('p', { id: 'validation', role: 'status', class: 'muted' });
  const graphBox = h('div', { class: 'graph preview', id: 'graph' });
  const graph = new Graph(graphBox, {});
  const name = h('input', { id: 'machine-name', value: sm ? sm.name : '', placeholder: 'MyStateMachine', autocomplete: 'off', spellcheck: 'false' });
  const type = h('select', { id: 'machine-type', disabled: !!sm }, h('option', { value: 'STANDARD' }, 'Standard'), h('option', { value: 'EXPRESS' }, 'Express'));
  if (sm) type.value = sm.type;
  const role = h('input', { id: 'machine-role', value: sm ? sm.roleArn : 'arn:aws:iam::123456789012:role/stepwell', class: 'mono', spellcheck: 'false' });
  const save = h('button', { type: 'button', class: 'primary', id: 'save' }, sm ? 'Update state machine' : 'Create state machine');
  const saveStatus = h('span', { role: 'status', class: 'muted' });
  const editor = h('div', { class: 'editor' }, gutter, h('div', { class: 'editor-body' }, hl, text));
  main.append(
    h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' }, a('/state-machines', 'State machines'), ' / ', sm ? [a(machineHref(arn), sm.name), ' / edit'] : 'new'),
    h('div', { class: 'page-head' }, h('h1', {}, sm ? `Edit ${sm.name}` : 'New state machine')),
    h('div', { class: 'form-row' },
      h('label', {}, 'Name', name), h('label', {}, 'Type', type), h('label', { class: 'grow' }, 'Role ARN', role)),
    h('div', { class: 'editor-area' },
      h('div', { class: 'editor-col' }, editor, result, diagList, h('div', { class: 'actions-inline' }, save, saveStatus)),
      h('div', { class: 'graph-col' }, graphToolbar(graph), graphBox)));
  if (sm) name.disabled = true;

  let marks = new Map(); // line → severity
  let messages = new Map(); // line → the diagnostics' text
  function paint() {
    highlight(hl, text.value + '\n');
    const n = text.value.split('\n').length;
    const frag = document.createDocumentFragment();
    for (let i = 1; i <= n; i++) {
      const sev = marks.get(i);
      frag.appendChild(h('div', { class: 'gl' + (sev ? ' mark-' + sev.toLowerCase() : ''), 'data-line': i, title: messages.get(i) }, sev ? '●' : String(i)));
    }
    fill(gutter, frag);
    // Underline the marked lines in the highlight layer.
    const lines = hl.querySelectorAll('.line-mark');
    lines.forEach((x) => x.remove());
    for (const [line, sev] of marks) {
      hl.appendChild(h('div', { class: 'line-mark mark-' + sev.toLowerCase(), dataset: { line } }));
      hl.lastChild.style.top = (line - 1) * 20 + 8 + 'px';
    }
    syncScroll();
  }
  function syncScroll() {
    hl.scrollTop = text.scrollTop;
    hl.scrollLeft = text.scrollLeft;
    gutter.scrollTop = text.scrollTop;
  }
  text.addEventListener('scroll', syncScroll);
  text.addEventListener('keydown', (e) => {
    if (e.key === 'Tab' && !e.shiftKey && !e.ctrlKey && !e.altKey) {
      // Tab indents; Escape then Tab leaves the editor (keyboard users).
      if (text.dataset.escaped === 'true') return;
      e.preventDefault();
      text.setRangeText('  ', text.selectionStart, text.selectionEnd, 'end');
      text.dispatchEvent(new Event('input'));
    } else if (e.key === 'Escape') {
      text.dataset.escaped = 'true';
    } else {
      text.dataset.escaped = 'false';
    }
  });

  let seq = 0;
  async function validate() {
    const my = ++seq;
    const src = text.value;
    const parsed = pointerLines(src);
    const diags = [];
    if (parsed.error) {
      diags.push({ severity: 'ERROR', code: 'INVALID_JSON', message: parsed.error.message, line: parsed.error.line, location: `line ${parsed.error.line}, column ${parsed.error.column}` });
    } else {
      try {
        const r = await call('ValidateStateMachineDefinition', { definition: src, type: type.value });
        if (my !== seq) return;
        for (const d of r.diagnostics || []) diags.push({ ...d, line: lineOf(parsed.lines, d.location) });
        try {
          graph.render(JSON.parse(src));
          probe.timings.layoutMs = graph.layoutMs;
        } catch { /* keep the last preview */ }
      } catch (err) {
        if (my !== seq) return;
        diags.push({ severity: 'ERROR', code: err.type || 'ERROR', message: err.message, line: 1, location: '' });
      }
    }
    if (my !== seq) return;
    marks = new Map();
    messages = new Map();
    for (const d of diags) {
      if (!marks.has(d.line) || d.severity === 'ERROR') marks.set(d.line, d.severity || 'ERROR');
      messages.set(d.line, (messages.has(d.line) ? messages.get(d.line) + '\n' : '') + `${d.code}: ${d.message}`);
    }
    const errors = diags.filter((d) => (d.severity || 'ERROR') === 'ERROR').length;
    result.textContent = diags.length ? `${errors} error${errors === 1 ? '' : 's'}, ${diags.length - errors} warning${diags.length - errors === 1 ? '' : 's'}` : 'The definition is valid.';
    result.className = errors ? 'error' : 'ok';
    result.dataset.result = errors ? 'FAIL' : 'OK';
    fill(diagList, ...diags.map((d) => h('li', { class: 'diag mark-' + (d.severity || 'ERROR').toLowerCase(), 'data-line': d.line },
      h('button', { type: 'button', class: 'linkish', onclick: () => goToLine(d.line) }, `Line ${d.line}`),
      ` ${d.severity || 'ERROR'} ${d.code}: ${d.message}`, d.location ? h('span', { class: 'muted small' }, ` (${d.location})`) : null)));
    save.disabled = errors > 0;
    paint();
  }
  function goToLine(line) {
    const lines = text.value.split('\n');
    let pos = 0;
    for (let i = 0; i < line - 1 && i < lines.length; i++) pos += lines[i].length + 1;
    text.focus();
    text.setSelectionRange(pos, pos + (lines[line - 1] || '').length);
    text.scrollTop = Math.max(0, (line - 5) * 20);
  }
  let timer;
  text.addEventListener('input', () => {
    paint();
    clearTimeout(timer);
    timer = setTimeout(validate, 250);
  });
  type.addEventListener('change', validate);
  save.addEventListener('click', async () => {
    save.disabled = true;
    saveStatus.textContent = 'Saving…';
    try {
      if (sm) {
        await call('UpdateStateMachine', { stateMachineArn: arn, definition: text.value, roleArn: role.value });
        go(machineHref(arn));
      } else {
        const r = await call('CreateStateMachine', { name: name.value.trim(), definition: text.value, roleArn: role.value.trim(), type: type.value });
        go(machineHref(r.stateMachineArn));
      }
    } catch (err) {
      saveStatus.textContent = err.message;
      saveStatus.className = 'error';
      save.disabled = false;
    }
  });
  paint();
  await validate();
  main.dataset.ready = 'true';
}

// ---------------------------------------------------------------- activities, Map Runs

async function activitiesPage() {
  setTitle('Activities');
  const acts = await all('ListActivities', { maxResults: 1000 }, 'activities');
  const waiting = new Map();
  const tbody = h('tbody', {}, acts.length ? acts.map((x) => {
    const cell = h('td', { class: 'num', 'data-waiting': x.activityArn }, '…');
    waiting.set(x.activityArn, cell);
    return h('tr', {}, h('td', {}, x.name), h('td', { class: 'mono' }, x.activityArn), h('td', {}, fmtDate(x.creationDate)), cell);
  }) : h('tr', {}, h('td', { colspan: 4, class: 'muted' }, 'No activities.')));
  const note = h('p', { class: 'muted small' });
  main.append(h('div', { class: 'page-head' }, h('h1', {}, 'Activities')),
    h('table', { class: 'list', id: 'activities' }, h('thead', {}, h('tr', {}, ['Name', 'ARN', 'Created', 'Tasks waiting'].map((c) => h('th', { scope: 'col' }, c)))), tbody), note);
  main.dataset.ready = 'true';
  if (!acts.length) return;
  // Tasks waiting: activity tasks scheduled and not yet started, read from
  // the recent history of running executions (the API has no counter).
  const counts = new Map(acts.map((x) => [x.activityArn, 0]));
  const machines = await all('ListStateMachines', {}, 'stateMachines');
  let scanned = 0;
  for (const m of machines) {
    const running = await all('ListExecutions', { stateMachineArn: m.stateMachineArn, statusFilter: 'RUNNING' }, 'executions', { limit: 200 });
    for (const x of running) {
      if (scanned >= 200) break;
      scanned++;
      const r = await call('GetExecutionHistory', { executionArn: x.executionArn, reverseOrder: true, maxResults: 100 });
      const open = new Map();
      for (const e of [...(r.events || [])].reverse()) {
        if (e.type === 'ActivityScheduled') open.set(e.id, e.activityScheduledEventDetails?.resource);
        else if (/^Activity(Started|ScheduleFailed|TimedOut|Failed|Succeeded)$/.test(e.type)) {
          let p = e.previousEventId;
          while (p && !open.has(p) && p > 0) p = (r.events.find((y) => y.id === p) || {}).previousEventId;
          if (open.has(p)) open.delete(p);
        }
      }
      for (const res of open.values()) if (counts.has(res)) counts.set(res, counts.get(res) + 1);
    }
  }
  for (const [arn, n] of counts) waiting.get(arn).textContent = String(n);
  note.textContent = `Counted from the recent history of ${scanned} running execution${scanned === 1 ? '' : 's'}.`;
}

async function mapRunsPage(executionArn) {
  setTitle('Map Runs');
  const runs = await all('ListMapRuns', { executionArn }, 'mapRuns');
  main.append(h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' }, a(executionHref(executionArn), shortArn(executionArn)), ' / Map Runs'),
    h('div', { class: 'page-head' }, h('h1', {}, 'Map Runs')));
  if (!runs.length) main.append(h('p', { class: 'muted' }, 'This execution has no Map Runs (only Distributed Map states start them).'));
  for (const r of runs) {
    const d = await call('DescribeMapRun', { mapRunArn: r.mapRunArn });
    const c = d.itemCounts || {};
    const done = (c.succeeded || 0) + (c.failed || 0) + (c.timedOut || 0) + (c.aborted || 0);
    const kids = await call('ListExecutions', { mapRunArn: r.mapRunArn, maxResults: 50 }).catch((err) => ({ executions: [], error: err.message }));
    main.append(h('section', { class: 'maprun' },
      h('h2', {}, shortArn(r.mapRunArn), ' ', badge(d.status || 'RUNNING')),
      h('progress', { max: c.total || 1, value: done, 'aria-label': 'Items done' }),
      h('p', {}, ['total', 'pending', 'running', 'succeeded', 'failed', 'timedOut', 'aborted'].map((k) => `${k} ${c[k] ?? 0}`).join(' · ')),
      h('p', { class: 'muted small' }, `Started ${fmtDate(d.startDate)}; max concurrency ${d.maxConcurrency ?? 0}; tolerated failures ${d.toleratedFailurePercentage ?? 0}%`),
      h('table', { class: 'list' }, h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Child execution'), h('th', { scope: 'col' }, 'Status'))),
        h('tbody', {}, (kids.executions || []).map((x) => h('tr', {}, h('td', {}, a(executionHref(x.executionArn), x.name)), h('td', {}, badge(x.status)))),
          kids.error ? h('tr', {}, h('td', { colspan: 2, class: 'muted' }, kids.error)) : null))));
  }
  main.dataset.ready = 'true';
}

function whenDagre() {
  if (window.dagre) return Promise.resolve();
  return new Promise((resolve) => window.addEventListener('load', resolve, { once: true }));
}

whenDagre().then(render);
