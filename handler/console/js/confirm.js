// confirmAction: a button that asks before it acts. The first click shows
// the question with a confirm and a cancel button; the confirm runs act
// (which reports its own failure).

import { h } from './dom.js';

export function confirmAction({ label, question, confirm, role, act, cls }) {
  const wrap = h('span', { class: cls || 'confirm-action' });
  const ask = h('button', { type: 'button', class: 'small danger', data: { role }, text: label });
  const row = h('span', { class: 'confirm', hidden: true },
    h('span', { text: question + ' ' }),
    h('button', { type: 'button', class: 'small danger', data: { role: 'confirm-' + role }, text: confirm, on: { click: async (ev) => {
      ev.target.disabled = true;
      try {
        await act(wrap);
      } finally {
        ev.target.disabled = false;
      }
    } } }),
    h('button', { type: 'button', class: 'small', text: '取消', on: { click: () => { row.hidden = true; ask.hidden = false; } } }));
  ask.addEventListener('click', () => { ask.hidden = true; row.hidden = false; });
  wrap.append(ask, row);
  return wrap;
}
