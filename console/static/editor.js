// editor.js: write or paste a definition, see ValidateStateMachineDefinition's
// diagnostics at their lines as you type and the graph preview, then create
// or update the state machine.

import { call } from './api.js';
import { Graph } from './graph.js';
import { highlight, lineOf, pointerLines, pretty } from './json.js';
import { a, fill, graphToolbar, h, machineHref, main, navigate, probe, setTitle } from './ui.js';

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

export async function editorPage(arn) {
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
        navigate(machineHref(arn));
      } else {
        const r = await call('CreateStateMachine', { name: name.value.trim(), definition: text.value, roleArn: role.value.trim(), type: type.value });
        navigate(machineHref(r.stateMachineArn));
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
