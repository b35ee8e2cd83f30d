// machines.js: the state machines: the list (search, type, creation date,
// running and failed executions) and one machine's page (graph, definition,
// executions by status and page, versions and aliases, Start execution).

import { all, call } from './api.js';
import { Graph, MIN_FIRST_SCALE } from './graph.js';
import { CodeEditor } from './codeeditor.js';
import { pointerLines } from './json.js';
import { formatDuration, toMillis } from './status.js';
import { a, badge, codeBlock, currentPage, errorBox, executionHref, fmtDate, graphToolbar, h, machineHref, mark, modal, navigate, onLeave, probe, setTitle, shortArn, tabs } from './ui.js';

/** machinesPage lists the state machines. */
export async function machinesPage() {
  const main = currentPage();
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
  mark(main, 'ready', 'true');
  // Counts of running and failed executions, a few machines at a time.
  let stop = false;
  onLeave(() => (stop = true));
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

/** machinePage shows one state machine (or a version or an alias of one). */
export async function machinePage(arn) {
  const main = currentPage();
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
  graph.fit(MIN_FIRST_SCALE); // laid out before it was on the page
  probe.timings.layoutMs = graph.layoutMs;
  mark(main, 'ready', 'true');
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
    const ed = new CodeEditor({ id: 'execution-input', label: 'Input (JSON)', value: '{\n  \n}', className: 'small' });
    const input = ed.text;
    const status = h('p', { class: 'muted', role: 'status' }, 'Input: a JSON value.');
    const start = h('button', { type: 'button', class: 'primary', id: 'start' }, 'Start execution');
    input.addEventListener('input', () => {
      const r = pointerLines(input.value);
      status.textContent = r.error ? `Line ${r.error.line}, column ${r.error.column}: ${r.error.message}` : 'Valid JSON.';
      ed.mark(r.error ? [{ line: r.error.line, message: r.error.message }] : []);
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
        navigate(executionHref(r.executionArn));
      } catch (err) {
        status.textContent = err.message;
        status.className = 'error';
        start.disabled = false;
      }
    });
    form.append(h('label', {}, 'Name', name), h('label', { for: 'execution-input' }, 'Input'), ed.el, status,
      h('div', { class: 'actions' }, h('button', { type: 'button', class: 'ghost', onclick: () => close(false) }, 'Cancel'), start));
  });
}
