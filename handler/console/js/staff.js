// The staff directory (GET /api/v1/staff): WeCom staff members with their
// names and departments, offered as suggestions wherever a userid is typed.

import { get } from './api.js';
import { h } from './dom.js';

const LIST_ID = 'staff-options';
let loaded = null;

// staffPicker makes the page's userid inputs suggest staff members: it
// puts one <datalist> in the page, filled from the directory once per
// sign-in, and answers its id for an input's list attribute.
export function staffPicker() {
  let list = document.getElementById(LIST_ID);
  if (!list) {
    list = h('datalist', { id: LIST_ID });
    document.body.append(list);
  }
  if (!loaded) {
    loaded = get('/staff').then((dir) => {
      list.replaceChildren(...(dir.staff || []).filter((s) => s.active).map((s) => {
        const o = document.createElement('option');
        o.value = s.userid;
        o.label = [s.name, (s.departments || []).map((d) => d.name).filter(Boolean).join('、')].filter(Boolean).join(' · ');
        return o;
      }));
      list.dataset.count = String(list.children.length);
    }, () => { loaded = null; }); // a role or corp without the directory: plain text inputs
  }
  return LIST_ID;
}
