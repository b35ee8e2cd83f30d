// resources.js: the activities (with the tasks waiting) and an execution's
// Map Runs (item counts, progress, child executions).

import { all, call } from './api.js';
import { a, badge, currentPage, executionHref, fmtDate, h, mark, setTitle, shortArn } from './ui.js';

/** activitiesPage lists the activities and the tasks waiting for each. */
export async function activitiesPage() {
  const main = currentPage();
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
  mark(main, 'ready', 'true');
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

/** mapRunsPage shows the Map Runs of an execution. */
export async function mapRunsPage(executionArn) {
  const main = currentPage();
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
  mark(main, 'ready', 'true');
}
