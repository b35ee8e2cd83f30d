// status.js: what an execution's history says about each state — its
// status (the colours of the graph), and each time it was entered (input,
// output, error, cause, retries, duration). Pure functions of the events,
// so the timeline replays any prefix of the history.

/** The statuses a graph node can show (the testability contract). */
export const STATUSES = ['not-started', 'in-progress', 'succeeded', 'failed', 'caught', 'aborted'];

const FAILURE = /(Failed|TimedOut)$/;
const OUTCOME = /^(Task|LambdaFunction|Activity|ParallelState|MapState|MapRun|ChildWorkflowExecution|Evaluation)/;

function detailsOf(ev) {
  for (const k in ev) {
    if (k.endsWith('EventDetails')) return ev[k] || {};
  }
  return {};
}

function family(type) {
  if (type.startsWith('ParallelState')) return 'Parallel';
  if (type.startsWith('MapState') || type.startsWith('MapIteration') || type.startsWith('MapRun')) return 'Map';
  return 'any';
}

/**
 * analyze reads events (in id order) and returns
 *   { states: Map(name → {status, entries}), entries: [...], running, closedBy, owner }
 * (owner maps an event id to the entry of the state it belongs to)
 * where each entry is one entering of a state:
 *   {name, type, enteredId, exitedId, start, end, input, output, error,
 *    cause, failures, retries, status, iteration, resource}.
 * inside(container) returns the names of the states nested in a Parallel
 * or Map state, so its children are closed when it ends (optional).
 */
export function analyze(events, inside) {
  const byId = new Map();
  const owner = new Map(); // event id → the entry it belongs to
  const entries = [];
  const openByName = new Map(); // name → Set of its entries still open
  let closedBy = null;
  let redriven = 0;

  const open = (e) => e && e.exitedId === undefined && e.status === undefined;

  function findOwner(id, fam) {
    let guard = 0;
    while (id > 0 && guard++ < 1e6) {
      const ev = byId.get(id);
      if (!ev) return null;
      const e = owner.get(id);
      if (e && open(e) && (fam === 'any' || e.type === fam)) return e;
      id = ev.previousEventId;
    }
    return null;
  }

  function closeInside(container, at) {
    if (!inside) return;
    for (const name of inside(container.name)) {
      for (const e of openByName.get(name) || []) {
        if (e.enteredId > container.enteredId && open(e)) endOpen(e, at, false);
      }
    }
  }

  function endOpen(e, at, failedHere) {
    if (e.type === 'Fail' || e.failures > 0 || failedHere) e.status = 'failed';
    else e.status = 'aborted';
    if (e.end === undefined) e.end = at;
    removeOpen(e);
    if (e.type === 'Parallel' || e.type === 'Map') closeInside(e, at);
  }

  function removeOpen(e) {
    openByName.get(e.name)?.delete(e);
  }

  function firstOpen(name) {
    for (const e of openByName.get(name) || []) if (open(e)) return e;
    return null;
  }

  for (const ev of events) {
    byId.set(ev.id, ev);
    const t = ev.type;
    const d = detailsOf(ev);
    const at = toMillis(ev.timestamp);
    if (t.endsWith('StateEntered')) {
      const e = {
        name: d.name, type: t.slice(0, -'StateEntered'.length), enteredId: ev.id, start: at,
        input: d.input, failures: 0, retries: 0, lastOutcome: null, epoch: redriven,
      };
      const parent = findOwner(ev.previousEventId, 'any');
      if (parent && parent.type === 'MapIteration') e.iteration = parent.index;
      else if (parent && parent.iteration !== undefined) e.iteration = parent.iteration;
      entries.push(e);
      owner.set(ev.id, e);
      if (!openByName.has(e.name)) openByName.set(e.name, new Set());
      openByName.get(e.name).add(e);
      continue;
    }
    if (t.endsWith('StateExited')) {
      // The entering it closes: the nearest open one on its chain, else
      // the oldest open one of that name.
      let e = findOwner(ev.previousEventId, 'any');
      if (!e || e.name !== d.name) e = firstOpen(d.name);
      if (e) {
        e.exitedId = ev.id;
        e.end = at;
        e.output = d.output;
        if (e.lastOutcome === 'failure') e.status = 'caught';
        else e.status = 'succeeded';
        e.retries = Math.max(0, e.failures - (e.status === 'caught' ? 1 : 0));
        removeOpen(e);
        owner.set(ev.id, e);
        if (e.type === 'Parallel' || e.type === 'Map') closeInside(e, at);
      }
      continue;
    }
    if (t === 'ExecutionRedriven') {
      redriven++;
      closedBy = null;
      continue;
    }
    if (t.startsWith('Execution')) {
      if (t === 'ExecutionStarted') continue;
      if (t === 'ExecutionSucceeded' || t === 'ExecutionFailed' || t === 'ExecutionAborted' || t === 'ExecutionTimedOut') {
        closedBy = t;
        let culprit = null;
        if (t === 'ExecutionFailed') {
          culprit = findOwner(ev.previousEventId, 'any');
          if (culprit) {
            culprit.error = culprit.error ?? d.error;
            culprit.cause = culprit.cause ?? d.cause;
          }
        }
        for (const list of openByName.values()) {
          for (const e of [...list]) endOpen(e, at, e === culprit);
        }
        for (const e of entries) if (e.end === undefined) e.end = at;
      }
      continue;
    }
    // Events of a state: task, Map, Parallel, Wait, ...
    const fam = family(t);
    let e = null;
    if (fam === 'Map' && d.name && t.startsWith('MapIteration')) {
      e = firstOpen(d.name);
    }
    if (!e) e = findOwner(ev.previousEventId, fam);
    if (!e && fam !== 'any') e = findOwner(ev.previousEventId, 'any');
    if (!e) continue;
    owner.set(ev.id, e);
    if (t === 'MapIterationStarted') {
      // The states entered after this event run in iteration d.index:
      // the event is owned by an open pseudo-entry that says so.
      const it = { type: 'MapIteration', name: e.name, index: d.index, map: e, startedId: ev.id, iterationStatus: 'in-progress' };
      owner.set(ev.id, it);
      (e.iterations ||= []).push(it);
      (e.running ||= new Map()).set(d.index, it);
      continue;
    }
    if (t.startsWith('MapIteration')) {
      const it = e.running?.get(d.index);
      if (it) {
        e.running.delete(d.index);
        it.iterationStatus = t.endsWith('Succeeded') ? 'succeeded' : t.endsWith('Aborted') ? 'aborted' : 'failed';
        it.status = it.iterationStatus; // closed: no longer an owner
      }
      continue;
    }
    if (d.resource && !e.resource) e.resource = d.resource;
    if (d.mapRunArn) e.mapRunArn = d.mapRunArn;
    if (OUTCOME.test(t)) {
      if (FAILURE.test(t)) {
        e.failures++;
        e.lastOutcome = 'failure';
        e.error = d.error;
        e.cause = d.cause;
      } else if (t.endsWith('Succeeded')) {
        e.lastOutcome = 'success';
      }
    }
  }

  const running = closedBy === null;
  for (const e of entries) {
    if (e.status === undefined) e.status = running ? 'in-progress' : 'aborted';
    for (const it of e.iterations || []) {
      if (!running && it.iterationStatus === 'in-progress') it.iterationStatus = 'aborted';
    }
  }
  // Superseded: after a redrive, a state's earlier failed or aborted
  // enterings no longer decide its colour once it ran again.
  const states = new Map();
  for (const e of entries) {
    if (!states.has(e.name)) states.set(e.name, { name: e.name, type: e.type, entries: [] });
    states.get(e.name).entries.push(e);
  }
  for (const s of states.values()) {
    const latest = Math.max(...s.entries.map((e) => e.epoch));
    const current = s.entries.filter((e) => e.epoch === latest || e.status === 'succeeded' || e.status === 'caught');
    s.status = aggregate(current.length ? current : s.entries);
    s.retries = s.entries.reduce((n, e) => n + e.retries, 0);
  }
  return { states, entries, running, closedBy, owner };
}

const PRIORITY = ['in-progress', 'failed', 'caught', 'aborted', 'succeeded'];

/** aggregate is the status of a state that ran as these entries. */
export function aggregate(entries) {
  let best = 'not-started';
  let rank = PRIORITY.length;
  for (const e of entries) {
    const r = PRIORITY.indexOf(e.status);
    if (r >= 0 && r < rank) {
      rank = r;
      best = e.status;
    }
  }
  return best;
}

/** toMillis reads an API timestamp (epoch seconds, maybe fractional). */
export function toMillis(ts) {
  if (ts === undefined || ts === null) return undefined;
  if (typeof ts === 'number') return ts * 1000;
  const n = Date.parse(ts);
  return Number.isNaN(n) ? undefined : n;
}

/** formatDuration prints milliseconds the way the console shows them. */
export function formatDuration(ms) {
  if (ms === undefined || ms === null || Number.isNaN(ms)) return '';
  if (ms < 1000) return Math.round(ms) + ' ms';
  if (ms < 60000) return (ms / 1000).toFixed(ms < 10000 ? 2 : 1) + ' s';
  const m = Math.floor(ms / 60000);
  const s = Math.round((ms % 60000) / 1000);
  if (m < 60) return `${m} min ${s} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}
