// editor.js: write or paste a definition, see ValidateStateMachineDefinition's
// diagnostics at their lines as you type and the graph preview, then create
// or update the state machine.

import { call } from './api.js';
import { Graph } from './graph.js';
import { CodeEditor } from './codeeditor.js';
import { lineOf, pointerLines, pretty } from './json.js';
import { a, currentPage, fill, graphToolbar, h, machineHref, mark, navigate, probe, setTitle } from './ui.js';

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

/** editorPage edits a new definition, or machine arn's when given. */
export async function editorPage(arn) {
  const main = currentPage();
  setTitle('Editor');
  let sm = null;
  if (arn) sm = await call('DescribeStateMachine', { stateMachineArn: arn });
  const ed = new CodeEditor({ id: 'definition', label: 'Definition (Amazon States Language JSON)', value: sm ? pretty(sm.definition) : SAMPLE });
  const text = ed.text;
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
  main.append(
    h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' }, a('/state-machines', 'State machines'), ' / ', sm ? [a(machineHref(arn), sm.name), ' / edit'] : 'new'),
    h('div', { class: 'page-head' }, h('h1', {}, sm ? `Edit ${sm.name}` : 'New state machine')),
    h('div', { class: 'form-row' },
      h('label', {}, 'Name', name), h('label', {}, 'Type', type), h('label', { class: 'grow' }, 'Role ARN', role)),
    h('div', { class: 'editor-area' },
      h('div', { class: 'editor-col' }, ed.el, result, diagList, h('div', { class: 'actions-inline' }, save, saveStatus)),
      h('div', { class: 'graph-col' }, graphToolbar(graph), graphBox)));
  if (sm) name.disabled = true;

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
    ed.mark(diags.map((d) => ({ ...d, message: `${d.code}: ${d.message}` })));
    const errors = diags.filter((d) => (d.severity || 'ERROR') === 'ERROR').length;
    result.textContent = diags.length ? `${errors} error${errors === 1 ? '' : 's'}, ${diags.length - errors} warning${diags.length - errors === 1 ? '' : 's'}` : 'The definition is valid.';
    result.className = errors ? 'error' : 'ok';
    result.dataset.result = errors ? 'FAIL' : 'OK';
    fill(diagList, ...diags.map((d) => h('li', { class: 'diag mark-' + (d.severity || 'ERROR').toLowerCase(), 'data-line': d.line },
      h('button', { type: 'button', class: 'linkish', onclick: () => ed.goToLine(d.line) }, `Line ${d.line}`),
      ` ${d.severity || 'ERROR'} ${d.code}: ${d.message}`, d.location ? h('span', { class: 'muted small' }, ` (${d.location})`) : null)));
    save.disabled = errors > 0;
  }
  let timer;
  text.addEventListener('input', () => {
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
  await validate();
  mark(main, 'ready', 'true');
}
