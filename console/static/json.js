// json.js: JSON for people — syntax highlighting into DOM nodes (never
// HTML strings), and the line of each JSON pointer (/States/A/Next) in a
// text, so diagnostics show at their locations.

const TOKEN = /("(?:[^"\\]|\\.)*")(\s*:)?|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|\b(true|false|null)\b|([{}[\],])|(\s+)|(.)/gy;

/** highlight fills el with the text as highlighted JSON. */
export function highlight(el, text) {
  el.textContent = '';
  const frag = document.createDocumentFragment();
  let plain = '';
  const flush = () => {
    if (plain) frag.appendChild(document.createTextNode(plain));
    plain = '';
  };
  const span = (cls, s) => {
    flush();
    const n = document.createElement('span');
    n.className = cls;
    n.textContent = s;
    frag.appendChild(n);
  };
  TOKEN.lastIndex = 0;
  let m;
  while (TOKEN.lastIndex < text.length && (m = TOKEN.exec(text))) {
    if (m[1] !== undefined) {
      span(m[2] ? 'j-key' : 'j-str', m[1]);
      if (m[2]) plain += m[2];
    } else if (m[3] !== undefined) span('j-num', m[3]);
    else if (m[4] !== undefined) span('j-lit', m[4]);
    else plain += m[0];
  }
  flush();
  el.appendChild(frag);
}

/** pretty re-indents a JSON text; a text that is not JSON is returned as is. */
export function pretty(text) {
  if (text === undefined || text === null) return '';
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return String(text);
  }
}

/**
 * pointerLines maps each JSON pointer in text to its 1-based line (the
 * line of the member's key, or of an array element's first character).
 * It reads as far as the text is valid JSON; syntax gives {error: {line,
 * column, message}} for the first syntax error.
 */
export function pointerLines(text) {
  const lines = new Map();
  let i = 0;
  let line = 1;
  let lineStart = 0;
  const fail = (message) => {
    const e = new Error(message);
    e.line = line;
    e.column = i - lineStart + 1;
    throw e;
  };
  const ws = () => {
    for (; i < text.length; i++) {
      const c = text[i];
      if (c === '\n') {
        line++;
        lineStart = i + 1;
      } else if (c !== ' ' && c !== '\t' && c !== '\r') break;
    }
  };
  const str = () => {
    if (text[i] !== '"') fail('expected a string');
    let out = '';
    i++;
    while (i < text.length && text[i] !== '"') {
      if (text[i] === '\\') {
        const n = text[i + 1];
        if (n === 'u') {
          out += String.fromCharCode(parseInt(text.slice(i + 2, i + 6), 16));
          i += 6;
          continue;
        }
        out += { n: '\n', t: '\t', r: '\r', b: '\b', f: '\f' }[n] ?? n;
        i += 2;
        continue;
      }
      if (text[i] === '\n') fail('unterminated string');
      out += text[i++];
    }
    if (text[i] !== '"') fail('unterminated string');
    i++;
    return out;
  };
  const esc = (k) => k.replace(/~/g, '~0').replace(/\//g, '~1');
  const value = (ptr) => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') {
        i++;
        return;
      }
      for (;;) {
        ws();
        const keyLine = line;
        const k = str();
        lines.set(ptr + '/' + esc(k), keyLine);
        ws();
        if (text[i] !== ':') fail("expected ':'");
        i++;
        value(ptr + '/' + esc(k));
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return;
        }
        fail("expected ',' or '}'");
      }
    }
    if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') {
        i++;
        return;
      }
      for (let n = 0; ; n++) {
        ws();
        lines.set(ptr + '/' + n, line);
        value(ptr + '/' + n);
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return;
        }
        fail("expected ',' or ']'");
      }
    }
    if (c === '"') return void str();
    const m = /^(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)/.exec(text.slice(i, i + 400));
    if (!m) fail(i >= text.length ? 'unexpected end of the text' : 'unexpected character ' + JSON.stringify(c));
    i += m[0].length;
  };
  lines.set('', 1);
  try {
    value('');
    ws();
    if (i < text.length) fail('unexpected text after the JSON value');
    return { lines };
  } catch (e) {
    return { lines, error: { line: e.line, column: e.column, message: e.message } };
  }
}

/** lineOf returns the line of a pointer, or of its nearest ancestor found. */
export function lineOf(lines, pointer) {
  let p = pointer || '';
  for (;;) {
    if (lines.has(p)) return lines.get(p);
    const j = p.lastIndexOf('/');
    if (j < 0) return 1;
    p = p.slice(0, j);
  }
}
