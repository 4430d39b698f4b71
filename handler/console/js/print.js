// 打印海报: a code's A5 poster alone on the page, to print (or save as PDF)
// at its size: the page is A5 without margins and the poster fills it.

import { get, objectURL } from './api.js';
import { h } from './dom.js';
import { KINDS } from './channels.js';

const BACK = { 'channel-codes': (id) => '#/channels/' + id, 'group-codes': (id) => '#/groups/' + id, 'store-codes': (id) => '#/store-codes/' + id };

export async function page(ctx) {
  const [kind, id] = ctx.params;
  const code = await get(`/${kind}/${id}`);
  const src = await objectURL(`/${kind}/${id}/poster.png`);
  const img = h('img', { class: 'poster-sheet', id: 'poster', alt: `${code.name} 的海报` });
  img.src = src; // a blob: URL of the poster fetched with the token
  const ready = img.decode().then(() => { img.dataset.ready = 'true'; }, () => {});
  const bar = h('div', { class: 'page-head no-print' },
    h('h1', { text: `打印海报：${code.name}` }),
    h('span', { class: 'poster-buttons' },
      h('button', { type: 'button', class: 'primary', id: 'print', text: '打印', on: { click: async () => { await ready; window.print(); } } }),
      h('a', { href: BACK[kind](id), class: 'button', text: '返回' })));
  const hint = h('p', { class: 'muted no-print', text: `${KINDS[kind]}海报为 A5（148 × 210 毫米，300 dpi）。打印时选择 A5 纸张、无边距、实际大小；也可以另存为 PDF。` });
  return h('section', { class: 'page print-page', id: 'print-poster' }, bar, hint, img);
}
