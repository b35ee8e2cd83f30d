// execution.js: one execution: the graph coloured live with its legend and
// timeline, a state's details (input, output, error, retries, iterations),
// the Event view (virtualised), the Table view, input and output, Stop,
// Redrive and Export history.

import { call } from './api.js';
import { allStates, descendants, Graph, STATUS_ICONS, STATUS_LABELS } from './graph.js';
import { highlight } from './json.js';
import { aggregate, analyze, formatDuration, STATUSES, toMillis } from './status.js';
import { a, badge, codeBlock, confirmAction, currentPage, executionHref, fill, fmtDate, graphToolbar, h, machineHref, mark, onLeave, probe, setTitle, shortArn, showBanner, tabs } from './ui.js';

const ROW_H = 28;

/** executionPage shows the execution arn and follows it while it runs. */
export async function executionPage(arn) {
  const main = currentPage();
  const t0 = performance.now();
  let stopped = false;
  const controller = new AbortController();
  onLeave(() => {
    stopped = true;
    controller.abort();
  });
  const signal = controller.signal;
  const [desc0, smx, first] = await Promise.all([
    call('DescribeExecution', { executionArn: arn }, { signal }),
    call('DescribeStateMachineForExecution', { executionArn: arn }, { signal }).catch(() => null),
    // An EXPRESS child of a Distributed Map keeps no history (as on AWS):
    // its page shows what DescribeExecution tells.
    call('GetExecutionHistory', { executionArn: arn, maxResults: 1000, includeExecutionData: true }, { signal })
      .catch((err) => {
        if (err.type !== 'StateMachineTypeNotSupported') throw err;
        return { events: [], noHistory: true };
      }),
  ]);
  const noHistory = !!first.noHistory;
  let desc = desc0;
  // A Distributed Map's child execution: its parent, through its Map Run.
  const parentRun = desc.mapRunArn ? await call('DescribeMapRun', { mapRunArn: desc.mapRunArn }, { signal }).catch(() => null) : null;
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
      // A child's machine (<machine>/<label>) has no page: its parent's has.
      parentRun ? [a(machineHref(desc.stateMachineArn.replace(/\/[^/]*$/, '')), shortArn(desc.stateMachineArn.replace(/\/[^/]*$/, ''))), ' / ',
        a(executionHref(parentRun.executionArn), shortArn(parentRun.executionArn)), ' / ']
        : [a(machineHref(desc.stateMachineArn), shortArn(desc.stateMachineArn)), ' / '], desc.name),
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
      parentRun ? [h('dt', {}, 'Parent'), h('dd', {}, a(executionHref(parentRun.executionArn), shortArn(parentRun.executionArn), { id: 'parent-execution' }),
        ' · ', a('/map-runs/' + encodeURIComponent(parentRun.executionArn), 'Map Run'))] : null,
      noHistory ? [h('dt', {}, 'History'), h('dd', { id: 'no-history', class: 'muted' }, 'None: an EXPRESS child execution keeps no history, as on AWS. Its status, input and output are shown.')] : null,
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
      !noHistory && h('button', { type: 'button', id: 'export', onclick: exportHistory, disabled: !complete }, 'Export history'),
      hasMapRuns() && a('/map-runs/' + encodeURIComponent(arn), 'Map Runs', { class: 'button' }),
      !desc.mapRunArn && a('/editor?stateMachineArn=' + encodeURIComponent(desc.stateMachineArn), 'Edit state machine', { class: 'button ghost' }));
    fill(ioBox,
      h('h3', {}, 'Input'), codeBlock(desc.input ?? ''),
      h('h3', {}, 'Output'), desc.output !== undefined ? codeBlock(desc.output) : h('p', { class: 'muted' }, 'No output.'),
      desc.error ? [h('h3', {}, 'Error'), h('p', {}, desc.error), h('h3', {}, 'Cause'), h('pre', { class: 'code' }, desc.cause || '')] : null);
  }

  function hasMapRuns() {
    return events.some((e) => e.type === 'MapRunStarted' || e.type === 'MapRunRedriven');
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
        e.iterations ? iterationsOf(e) : null,
        e.mapRunArn ? mapRunOf(e) : null);
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
      h('label', {}, 'Colour the graph for', pick));
  }

  // mapRunOf: a Distributed Map state's Map Run and its child executions
  // (the first 50; the Map Runs page has the counts), each linked to its
  // own execution page (an EXPRESS child's shows no history, as on AWS).
  function mapRunOf(e) {
    const list = h('ul', { id: 'state-children', class: 'children', 'data-loaded': 'false' }, h('li', { class: 'muted' }, 'Loading…'));
    call('ListExecutions', { mapRunArn: e.mapRunArn, maxResults: 50 }).then((out) => {
      const kids = out.executions || [];
      fill(list, kids.length ? kids.map((x) => h('li', {}, a(executionHref(x.executionArn), x.name, { class: 'mono child-link' }), ' ', badge(x.status)))
        : h('li', { class: 'muted' }, 'No child executions listed yet.'),
      out.nextToken ? h('li', { class: 'muted' }, 'More on the Map Runs page.') : null);
      list.dataset.loaded = 'true';
    }, (err) => {
      fill(list, h('li', { class: 'bad' }, err.message));
      list.dataset.loaded = 'true';
    });
    return h('div', { class: 'map-run' }, h('h4', {}, 'Map Run'),
      h('p', {}, a('/map-runs/' + encodeURIComponent(arn), shortArn(e.mapRunArn), { id: 'state-map-run' })),
      h('h4', {}, 'Child executions'), list);
  }

  // Dragging the timeline recomputes at most once a frame.
  let sliding = false;
  slider.addEventListener('input', () => {
    if (sliding) return;
    sliding = true;
    requestAnimationFrame(() => {
      sliding = false;
      const v = Number(slider.value);
      timelineAt = v >= events.length && complete ? null : v;
      recompute();
    });
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
    if (noHistory) return 0;
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
    mark(main, 'live', 'false');
  }

  drawHeader();
  graph.render(def);
  recompute();
  probe.timings.layoutMs = graph.layoutMs;
  probe.timings.executionFirstPaintMs = performance.now() - t0;
  mark(main, 'ready', 'true');

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
  mark(main, 'history', 'complete');
  if (desc.status === 'RUNNING' || desc.status === 'PENDING_REDRIVE') {
    mark(main, 'live', 'true');
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
