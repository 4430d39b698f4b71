// DOM helpers. Every piece of data reaches the page as a text node or an
// attribute value set through the DOM API, never as HTML: customer names,
// remarks and tags come from WeCom users and are hostile.

const SAFE_ATTRS = new Set([
  'id', 'class', 'type', 'name', 'value', 'placeholder', 'for', 'min', 'max', 'step', 'rows', 'autocomplete',
  'inputmode', 'pattern', 'role', 'title', 'colspan', 'spellcheck', 'maxlength', 'enterkeyhint', 'list',
  'aria-label', 'aria-live', 'aria-invalid', 'aria-current', 'aria-pressed', 'aria-describedby', 'alt', 'width', 'height',
]);

// h builds an element. attrs: plain attributes (from SAFE_ATTRS), `text`,
// `href` (same-page links only), `data` (dataset), `on` (event listeners) and
// the boolean properties hidden, disabled, checked, required, selected,
// readOnly. Children: nodes, strings (as text), arrays; null and false skip.
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (tag === 'form') el.noValidate = true; // the API validates and names the field at fault
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'text') el.textContent = String(v);
    else if (k === 'on') for (const [ev, fn] of Object.entries(v)) el.addEventListener(ev, fn);
    else if (k === 'data') for (const [dk, dv] of Object.entries(v)) el.dataset[dk] = String(dv);
    else if (k === 'href') el.setAttribute('href', safeHref(String(v)));
    else if (['hidden', 'disabled', 'checked', 'required', 'selected', 'readOnly', 'multiple'].includes(k)) el[k] = Boolean(v);
    else if (SAFE_ATTRS.has(k) || k.startsWith('aria-')) el.setAttribute(k, String(v));
    else throw new Error('h: attribute not allowed: ' + k);
  }
  append(el, children);
  return el;
}

function safeHref(v) {
  return v.startsWith('#') || (v.startsWith('/') && !v.startsWith('//')) ? v : '#';
}

export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function clear(el) {
  el.replaceChildren();
  return el;
}

// field is a labelled input named by its API field path (data-field), so an
// API error can point at it. opts: label, name (API field), type, value,
// placeholder, hint, options ([[value, label]] for select), rows (textarea),
// required, disabled, attrs (extra attributes).
export function field(opts) {
  const id = 'f-' + (opts.id || opts.name).replace(/[^A-Za-z0-9_-]/g, '-');
  let input;
  if (opts.type === 'select') {
    input = h('select', { id, name: opts.name, disabled: opts.disabled, ...opts.attrs },
      (opts.options || []).map(([v, l]) => h('option', { value: v, text: l, selected: String(opts.value ?? '') === String(v) })));
  } else if (opts.type === 'textarea') {
    input = h('textarea', { id, name: opts.name, rows: opts.rows || 3, placeholder: opts.placeholder, disabled: opts.disabled, ...opts.attrs });
    input.value = opts.value ?? '';
  } else if (opts.type === 'checkbox') {
    input = h('input', { id, name: opts.name, type: 'checkbox', checked: opts.value, disabled: opts.disabled, ...opts.attrs });
    input.dataset.field = opts.name;
    return h('div', { class: 'field check' },
      h('label', { for: id }, input, ' ', opts.label), opts.hint ? h('small', { class: 'hint', text: opts.hint }) : null);
  } else {
    input = h('input', { id, name: opts.name, type: opts.type || 'text', placeholder: opts.placeholder, required: opts.required,
      disabled: opts.disabled, autocomplete: 'off', ...opts.attrs });
    input.value = opts.value ?? '';
  }
  input.dataset.field = opts.name;
  return h('div', { class: 'field' + (opts.wide ? ' wide' : '') },
    h('label', { for: id, text: opts.label + (opts.required ? ' *' : '') }), input, opts.hint ? h('small', { class: 'hint', text: opts.hint }) : null);
}

// val reads a named control of a form.
export function val(form, name) {
  const el = form.querySelector(`[data-field="${CSS.escape(name)}"]`);
  if (!el) return '';
  if (el.type === 'checkbox') return el.checked;
  return el.value.trim();
}

// list splits "a, b，c" or one per line into trimmed non-empty items.
export function list(s) {
  return String(s || '').split(/[,，、\n]+/).map((x) => x.trim()).filter(Boolean);
}

// number reads a numeric control's value: null when empty, the number, or
// the text as typed when it is not one (the API then names the field).
export function number(s) {
  if (s === '') return null;
  const n = Number(s);
  return Number.isFinite(n) ? n : s;
}

// errorBox is where a form or page shows an API error.
export function errorBox() {
  return h('div', { class: 'error-box', role: 'alert', hidden: true });
}

// showError shows an API error's message in box and highlights the control
// named by its field (the closest one: "roster.members[0].shifts[1].start"
// falls back to "roster.members[0].shifts[1]", then "roster.members[0]"...).
export function showError(scope, box, err) {
  clearErrors(scope, box);
  const field = err && err.field;
  let msg = (err && err.message) || String(err);
  let target = null;
  if (field && scope) {
    for (let f = field; f; f = parentField(f)) {
      target = scope.querySelector(`[data-field="${CSS.escape(f)}"]`);
      if (target) break;
    }
  }
  if (field) msg = `${fieldLabel(scope, target, field)}：${msg}`;
  box.textContent = msg;
  box.hidden = false;
  if (target) {
    target.classList.add('invalid');
    target.setAttribute('aria-invalid', 'true');
    if (typeof target.focus === 'function') target.focus({ preventScroll: true });
    target.scrollIntoView({ block: 'center' });
  } else {
    box.scrollIntoView({ block: 'nearest' });
  }
}

// onCreate wires a create form: on submit it clears the form's errors and
// calls create(); when that answers, the form is hidden and reset and the new
// item goes to done; a refusal shows on the form's fields and in box.
export function onCreate(form, box, create, done) {
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form, box);
    try {
      const item = await create();
      form.hidden = true;
      form.reset();
      done(item);
    } catch (e) {
      showError(form, box, e);
    }
  });
}

export function clearErrors(scope, box) {
  if (box) {
    box.hidden = true;
    box.textContent = '';
  }
  if (scope) {
    for (const el of scope.querySelectorAll('.invalid')) {
      el.classList.remove('invalid');
      el.removeAttribute('aria-invalid');
    }
  }
}

function parentField(f) {
  const m = f.match(/^(.*)(\.[^.[\]]+|\[\d+\])$/);
  return m ? m[1] : '';
}

function fieldLabel(scope, target, field) {
  if (target && target.id && scope) {
    const l = scope.querySelector(`label[for="${CSS.escape(target.id)}"]`);
    if (l && l.textContent.trim()) return `${l.textContent.replace(/\s*\*$/, '').trim()}（${field}）`;
  }
  return field;
}

// table renders rows with the given columns; on narrow screens CSS shows
// each row as a card labelled by data-label. rowClass(row), when given, names
// a class for the row's tr. Returns the table and add(rows).
export function table(columns, empty, rowClass) {
  const tbody = h('tbody');
  const t = h('table', { class: 'grid' },
    h('thead', null, h('tr', null, columns.map((c) => h('th', { class: c.cls, text: c.label })))), tbody);
  const emptyRow = h('tr', { class: 'empty' }, h('td', { colspan: columns.length, text: empty || '暂无数据' }));
  tbody.append(emptyRow);
  let n = 0;
  return {
    el: h('div', { class: 'table-wrap' }, t),
    add(rows) {
      if (rows.length && n === 0) emptyRow.remove();
      for (const row of rows) {
        n++;
        tbody.append(h('tr', { class: rowClass ? rowClass(row) : null, data: row.id !== undefined ? { id: row.id } : {} }, columns.map((c) => {
          const td = h('td', { class: c.cls }, c.render(row));
          td.dataset.label = c.label;
          return td;
        })));
      }
    },
    count: () => n,
  };
}

export function fmtTime(s) {
  if (!s) return '';
  const d = new Date(s);
  if (Number.isNaN(d.getTime())) return String(s);
  const p = (x) => String(x).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

export function badge(text, kind) {
  return h('span', { class: 'badge' + (kind ? ' ' + kind : ''), text });
}

let toastTimer;
export function toast(msg) {
  const el = document.getElementById('toast');
  el.textContent = msg;
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { el.hidden = true; }, 3000);
}

// msg is a message's text (the API writes it in the console's language, see
// api.js), or fallback for an answer without one.
export function msg(m, fallback) {
  return (m && m.text) || fallback || '';
}

// failure shows a stored error (a job's, an event's, a delivery's) in the
// console's language, its original text on hover; none when there is none.
export function failure(m, raw, none = '') {
  if (!raw) return none;
  return h('span', { class: 'failure', title: raw, text: msg(m, raw) });
}

// copyButton copies text to the clipboard; where the clipboard is refused it
// selects the code element's text and says to copy it by hand.
export function copyButton(code, text, manual) {
  const copy = h('button', { type: 'button', class: 'small', text: '复制' });
  copy.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(text);
      toast('已复制');
    } catch {
      const range = document.createRange();
      range.selectNodeContents(code);
      const sel = window.getSelection();
      sel.removeAllRanges();
      sel.addRange(range);
      toast(manual);
    }
  });
  return copy;
}

// showSecret fills el with a secret shown this once: a title, the secret
// with a copy button, a hint, and 我已保存 that hides it again.
export function showSecret(el, { title, secret, hint, manual }) {
  const code = h('code', { class: 'secret-value', text: secret || '' });
  el.replaceChildren(
    h('strong', { text: title }),
    h('div', { class: 'secret-line' }, code, copyButton(code, secret || '', manual)),
    h('small', { class: 'muted', text: hint }),
    h('div', null, h('button', { type: 'button', class: 'small', text: '我已保存', on: { click: () => { el.hidden = true; el.replaceChildren(); } } })));
  el.hidden = false;
  el.scrollIntoView({ block: 'nearest' });
}
