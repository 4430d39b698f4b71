// 标签库: the corp's WeCom tag catalogue (GET/POST /api/v1/tags, PATCH and
// DELETE /api/v1/tags/:id): add tags to a group, rename and delete them in
// WeCom. Tag rules name tags, so a tag a rule names is refused by the API.

import { get, post, patch, del } from './api.js';
import { h, field, val, list, errorBox, showError, clearErrors, toast } from './dom.js';

export async function catalogueCard(ctx) {
  const box = errorBox();
  const body = h('div', { class: 'tag-catalogue', id: 'tag-list' });
  const card = h('section', { class: 'card form', id: 'tag-catalogue' }, h('h2', { text: '标签库' }), box, body);
  async function load() {
    const res = await get('/tags');
    const groups = new Map();
    for (const t of res.tags || []) {
      if (!groups.has(t.group_name)) groups.set(t.group_name, []);
      groups.get(t.group_name).push(t);
    }
    body.replaceChildren(...(groups.size ? [...groups].map(([g, tags]) => h('div', { class: 'tag-group' },
      h('h3', { text: g || '（未分组）' }), tags.map((t) => tagRow(t)))) : [h('p', { class: 'muted', text: '还没有标签' })]));
  }
  function tagRow(t) {
    const input = h('input', { type: 'text', value: t.name, 'aria-label': '标签名', data: { role: 'tag-name' } });
    const row = h('div', { class: 'tag-row', data: { tag: t.id } }, input,
      h('button', { type: 'button', class: 'small', text: '改名', data: { role: 'rename' }, on: { click: rename } }),
      h('button', { type: 'button', class: 'small danger', text: '删除', data: { role: 'delete' }, on: { click: remove } }));
    async function rename() {
      clearErrors(card, box);
      try {
        await patch('/tags/' + encodeURIComponent(t.id), { name: input.value });
        toast('已改名：' + input.value);
        await load();
      } catch (e) {
        showError(card, box, e);
      }
    }
    async function remove(ev) {
      const b = ev.currentTarget;
      if (b.dataset.confirm !== 'true') {
        b.dataset.confirm = 'true';
        b.textContent = '确认删除';
        return;
      }
      clearErrors(card, box);
      try {
        await del('/tags/' + encodeURIComponent(t.id));
        toast('已删除：' + t.name);
        await load();
      } catch (e) {
        showError(card, box, e);
      }
    }
    return row;
  }
  const add = h('form', { class: 'tag-add', id: 'tag-add' },
    h('div', { class: 'grid2' },
      field({ label: '标签组', name: 'group', placeholder: '线索' }),
      field({ label: '新标签（逗号分隔）', name: 'names', placeholder: '高意向，待跟进' })),
    h('div', { class: 'actions' }, h('button', { type: 'submit', id: 'add-tags', text: '添加标签' })));
  add.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(card, box);
    try {
      await post('/tags', { group: val(add, 'group'), names: list(val(add, 'names')) });
      toast('已添加');
      add.reset();
      await load();
    } catch (e) {
      showError(add, box, e);
    }
  });
  card.append(add);
  await load();
  return card;
}
