// The staff directory (GET /api/v1/staff): WeCom staff members with their
// names and departments, offered as suggestions wherever a userid is typed.

import { get } from './api.js';
import { h, field, list, badge } from './dom.js';

const LIST_ID = 'staff-options';
let loaded = null;
let directory = null; // userid → "姓名 · 部门", once read

// staffPicker makes the page's userid inputs suggest staff members: it
// puts one <datalist> in the page, filled from the directory once per
// sign-in, and answers its id for an input's list attribute.
export function staffPicker() {
  load();
  return LIST_ID;
}

function load() {
  let options = document.getElementById(LIST_ID);
  if (!options) {
    options = h('datalist', { id: LIST_ID });
    document.body.append(options);
  }
  if (!loaded) {
    loaded = get('/staff').then((dir) => {
      const active = (dir.staff || []).filter((s) => s.active);
      directory = new Map(active.map((s) => [s.userid,
        [s.name, (s.departments || []).map((d) => d.name).filter(Boolean).join('、')].filter(Boolean).join(' · ')]));
      options.replaceChildren(...active.map((s) => {
        const o = document.createElement('option');
        o.value = s.userid;
        o.label = directory.get(s.userid);
        return o;
      }));
      options.dataset.count = String(options.children.length);
    }, () => { loaded = null; }); // a role or corp without the directory: plain text inputs
  }
  return loaded;
}

// staffList goes beside a text input that holds several userids (comma
// separated): it names each of them from the directory (a userid the
// directory lacks is marked, as the API will refuse it), and offers a box
// suggesting the directory by name or userid whose choice is appended to the
// input. The input stays what the form reads.
export function staffList(input) {
  const names = h('div', { class: 'staff-names', data: { role: 'staff-names' }, 'aria-live': 'polite' });
  const show = () => {
    names.replaceChildren(...list(input.value).map((u) => {
      if (!directory || !directory.size) return badge(u, 'tag');
      const name = directory.get(u);
      return name ? badge(`${name}（${u}）`, 'tag') : badge(`${u}（不在员工目录）`, 'warn');
    }));
  };
  const add = h('input', { type: 'text', class: 'staff-add', list: staffPicker(), autocomplete: 'off', disabled: input.disabled,
    placeholder: '添加成员：输入姓名或 userid', 'aria-label': '添加成员', data: { role: 'staff-add' } });
  const append = () => {
    const u = add.value.trim();
    add.value = '';
    if (!u) return;
    const have = list(input.value);
    if (!have.includes(u)) input.value = [...have, u].join('，');
    show();
  };
  // a suggestion picked is added at once; a typed userid on Enter or leaving the box
  add.addEventListener('input', (ev) => { if (ev.inputType === 'insertReplacementText' || !ev.inputType) append(); });
  add.addEventListener('change', append);
  add.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter') {
      ev.preventDefault(); // not the form's submit
      append();
    }
  });
  input.addEventListener('input', show);
  load().then(show, show);
  show();
  return h('div', { class: 'staff-list' }, input.disabled ? null : add, names);
}

// staffField is a form field (see field) of several userids with its
// staffList.
export function staffField(opts) {
  const f = field(opts);
  f.append(staffList(f.querySelector('input')));
  return f;
}

// staffRef shows a staff member in a list or a detail: their userid, and
// their name beside it once the directory is read (nothing for a userid it
// lacks, or when it cannot be read).
export function staffRef(userid) {
  if (!userid) return '—';
  const name = h('small', { class: 'muted staff-name', data: { role: 'staff-name' } });
  const show = () => {
    const label = directory && directory.get(userid);
    name.textContent = label ? ' ' + label.split(' · ')[0] : '';
  };
  load().then(show, show);
  show();
  return h('span', { class: 'staff-ref' }, h('span', { class: 'userid', text: userid }), name);
}
