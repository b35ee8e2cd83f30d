// codeeditor.js: a small JSON editor: a textarea over its highlighted copy
// (json.js), with line numbers and diagnostics marked at their lines. Tab
// indents; Escape then Tab leaves it (keyboard users).

import { highlight } from './json.js';
import { fill, h } from './ui.js';

const LINE = 20; // px, as in style.css (.editor-*)
const PAD = 8;

export class CodeEditor {
  /** constructor builds the editor; el is its element, text its textarea. */
  constructor({ id, label, value = '', className = '' }) {
    this.text = h('textarea', { class: 'editor-text', id, spellcheck: 'false', wrap: 'off', 'aria-label': label, autocapitalize: 'off' });
    this.text.value = value;
    this.hl = h('pre', { class: 'editor-hl', 'aria-hidden': 'true' });
    this.gutter = h('div', { class: 'editor-gutter', 'aria-hidden': 'true' });
    this.el = h('div', { class: 'editor ' + className }, this.gutter, h('div', { class: 'editor-body' }, this.hl, this.text));
    this.marks = new Map(); // line → severity
    this.messages = new Map(); // line → the diagnostics' text
    const text = this.text;
    text.addEventListener('scroll', () => this.syncScroll());
    text.addEventListener('input', () => this.paint());
    text.addEventListener('keydown', (e) => {
      if (e.key === 'Tab' && !e.shiftKey && !e.ctrlKey && !e.altKey) {
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
    this.paint();
  }

  get value() {
    return this.text.value;
  }

  /** mark sets the diagnostics: [{line, severity, message}]. */
  mark(diags) {
    this.marks = new Map();
    this.messages = new Map();
    for (const d of diags) {
      const sev = d.severity || 'ERROR';
      if (!this.marks.has(d.line) || sev === 'ERROR') this.marks.set(d.line, sev);
      this.messages.set(d.line, (this.messages.has(d.line) ? this.messages.get(d.line) + '\n' : '') + d.message);
    }
    this.paint();
  }

  paint() {
    const { text, hl, gutter } = this;
    highlight(hl, text.value + '\n');
    const n = text.value.split('\n').length;
    const frag = document.createDocumentFragment();
    for (let i = 1; i <= n; i++) {
      const sev = this.marks.get(i);
      frag.appendChild(h('div', { class: 'gl' + (sev ? ' mark-' + sev.toLowerCase() : ''), 'data-line': i, title: this.messages.get(i) }, sev ? '●' : String(i)));
    }
    fill(gutter, frag);
    for (const [line, sev] of this.marks) {
      hl.appendChild(h('div', { class: 'line-mark mark-' + sev.toLowerCase(), dataset: { line } }));
      hl.lastChild.style.top = (line - 1) * LINE + PAD + 'px';
    }
    this.syncScroll();
  }

  syncScroll() {
    this.hl.scrollTop = this.text.scrollTop;
    this.hl.scrollLeft = this.text.scrollLeft;
    this.gutter.scrollTop = this.text.scrollTop;
  }

  /** goToLine selects a line and scrolls to it. */
  goToLine(line) {
    const { text } = this;
    const lines = text.value.split('\n');
    let pos = 0;
    for (let i = 0; i < line - 1 && i < lines.length; i++) pos += lines[i].length + 1;
    text.focus();
    text.setSelectionRange(pos, pos + (lines[line - 1] || '').length);
    text.scrollTop = Math.max(0, (line - 5) * LINE);
  }
}
