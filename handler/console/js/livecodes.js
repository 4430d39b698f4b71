// 群活码 group codes, 门店活码 store codes and the stores behind them.

import { get, post } from './api.js';
import { h, field, val, list, errorBox, showError, clearErrors, badge, toast } from './dom.js';
import { pagedTable } from './list.js';
import { posterButton } from './channels.js';

// pagedList shows a list endpoint as a table with a "more" button.
async function pagedList(path, key, columns, empty) {
  const list = pagedTable({ columns, empty, fetch: async (after) => {
    const res = await get(path, { after, limit: 100 });
    return [res[key] || [], res.next_after];
  } });
  await list.load();
  return h('div', null, list.nodes);
}

// submitForm posts a form's spec and shows the error at its field.
function submitter(form, box, path, spec, done) {
  return async (ev) => {
    ev.preventDefault();
    clearErrors(form, box);
    const btn = form.querySelector('button[type=submit]');
    btn.disabled = true;
    try {
      done(await post(path, spec()));
    } catch (e) {
      showError(form, box, e);
    } finally {
      btn.disabled = false;
    }
  };
}

function intOrNull(s) {
  if (s === '') return null;
  const n = Number(s);
  return Number.isFinite(n) ? n : s; // a non-number goes to the API, which names the field
}

export async function groupsPage(ctx) {
  const lst = await pagedList('/group-codes', 'group_codes', [
    { label: '名称', render: (g) => h('span', { class: 'name', text: g.name }) },
    { label: '标题', render: (g) => g.title || '—' },
    { label: '群数', cls: 'num', render: (g) => String((g.pool || []).length) },
    { label: '满员阈值', cls: 'num', render: (g) => String(g.threshold) },
    { label: '状态', render: (g) => (g.alert ? badge(g.alert, 'warn') : g.dry ? badge('群已满', 'warn') : badge('正常', 'ok')) },
    { label: '', cls: 'row-actions', render: (g) => posterButton(`/group-codes/${g.id}/qr.png`, `群活码-${g.name}-${g.id}.png`) },
  ], '还没有群活码');
  return h('section', { class: 'page', id: 'groups' },
    h('div', { class: 'page-head' }, h('h1', { text: '群活码' }),
      ctx.can('createCode') ? h('a', { href: '#/groups/new', class: 'button primary', text: '新建群活码' }) : null),
    lst);
}

export async function groupFormPage(ctx) {
  const box = errorBox();
  const form = h('form', { class: 'card form', id: 'group-form' },
    box,
    h('div', { class: 'grid2' },
      field({ label: '名称', name: 'name', required: true }),
      field({ label: '落地页标题', name: 'title', placeholder: '加入展会交流群' }),
      field({ label: '满员阈值', name: 'threshold', type: 'number', value: 200, hint: '群人数达到后换下一个群' })),
    field({ label: '群聊 chat_id（按顺序，一行一个）', name: 'chat_ids', type: 'textarea', rows: 4, wide: true }),
    field({ label: '落地页说明', name: 'text', type: 'textarea', rows: 2, wide: true }),
    field({ label: '入群欢迎语', name: 'welcome', type: 'textarea', rows: 2, wide: true }),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', text: '创建' }),
      h('a', { href: '#/groups', class: 'button', text: '取消' })));
  form.addEventListener('submit', submitter(form, box, '/group-codes', () => ({
    name: val(form, 'name'), title: val(form, 'title'), text: val(form, 'text'), welcome: val(form, 'welcome'),
    chat_ids: list(val(form, 'chat_ids')), threshold: intOrNull(val(form, 'threshold')),
  }), (g) => { toast('已创建：' + g.name); ctx.go('#/groups'); }));
  return h('section', { class: 'page' }, h('div', { class: 'page-head' }, h('h1', { text: '新建群活码' })), form);
}

export async function storesPage(ctx) {
  const codes = await pagedList('/store-codes', 'store_codes', [
    { label: '名称', render: (c) => h('span', { class: 'name', text: c.name }) },
    { label: '标题', render: (c) => c.title || '—' },
    { label: '门店数', cls: 'num', render: (c) => String((c.stores || []).length) },
    { label: '半径', cls: 'num', render: (c) => `${c.radius_m} 米` },
    { label: '提供', render: (c) => (c.offer === 'group' ? '门店群' : '店员') },
    { label: '告警', render: (c) => { const a = (c.stores || []).filter((s) => s.alert); return a.length ? badge(`${a.length} 家门店有告警`, 'warn') : '—'; } },
    { label: '', cls: 'row-actions', render: (c) => posterButton(`/store-codes/${c.id}/qr.png`, `门店活码-${c.name}-${c.id}.png`) },
  ], '还没有门店活码');
  const stores = await pagedList('/stores', 'stores', [
    { label: '门店', render: (s) => h('span', { class: 'name', text: s.name }) },
    { label: '城市', render: (s) => [s.province, s.city].filter(Boolean).join(' ') || '—' },
    { label: '地址', render: (s) => s.address || '—' },
    { label: '店员', render: (s) => ((s.staff && s.staff.members) || []).map((m) => m.userid).join('，') || '—' },
    { label: '门店群', render: (s) => s.group_chat_id || '—' },
  ], '还没有门店');
  return h('section', { class: 'page', id: 'stores' },
    h('div', { class: 'page-head' }, h('h1', { text: '门店活码' }),
      ctx.can('createCode') ? h('a', { href: '#/store-codes/new', class: 'button primary', text: '新建门店活码' }) : null),
    codes,
    h('div', { class: 'page-head' }, h('h2', { text: '门店' }),
      ctx.can('createCode') ? h('a', { href: '#/stores/new', class: 'button', text: '新建门店' }) : null),
    stores);
}

export async function storeCodeFormPage(ctx) {
  const all = [];
  for (let after = ''; ;) {
    const res = await get('/stores', { after, limit: 500 });
    all.push(...(res.stores || []));
    if (!res.next_after) break;
    after = res.next_after;
  }
  const box = errorBox();
  const picks = h('div', { class: 'picks', data: { field: 'store_ids' } }, all.length ? all.map((s) =>
    h('label', { class: 'pick' }, h('input', { type: 'checkbox', value: s.id, data: { role: 'store' } }), ' ', s.name, ' ',
      h('small', { class: 'muted', text: [s.city, s.address].filter(Boolean).join(' ') }))) : h('p', { class: 'muted', text: '还没有门店，请先新建门店。' }));
  const form = h('form', { class: 'card form', id: 'store-code-form' },
    box,
    h('div', { class: 'grid2' },
      field({ label: '名称', name: 'name', required: true }),
      field({ label: '落地页标题', name: 'title', placeholder: '添加离您最近的门店顾问' }),
      field({ label: '服务半径（米）', name: 'radius_m', type: 'number', value: 5000 }),
      field({ label: '提供', name: 'offer', type: 'select', value: 'staff', options: [['staff', '店员（加好友）'], ['group', '门店群（进群）']] }),
      field({ label: '超出半径时的门店', name: 'fallback_store_id', type: 'select', value: '',
        options: [['', '不指定（让客户选城市）'], ...all.map((s) => [String(s.id), s.name])] })),
    h('h2', { text: '门店' }), picks,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', text: '创建' }),
      h('a', { href: '#/stores', class: 'button', text: '取消' })));
  form.addEventListener('submit', submitter(form, box, '/store-codes', () => {
    const spec = { name: val(form, 'name'), title: val(form, 'title'), offer: val(form, 'offer'), radius_m: intOrNull(val(form, 'radius_m')),
      store_ids: [...form.querySelectorAll('[data-role="store"]:checked')].map((x) => Number(x.value)) };
    if (val(form, 'fallback_store_id')) spec.fallback_store_id = Number(val(form, 'fallback_store_id'));
    return spec;
  }, (c) => { toast('已创建：' + c.name); ctx.go('#/stores'); }));
  return h('section', { class: 'page' }, h('div', { class: 'page-head' }, h('h1', { text: '新建门店活码' })), form);
}

export async function storeFormPage(ctx) {
  const box = errorBox();
  const form = h('form', { class: 'card form', id: 'store-form' },
    box,
    h('div', { class: 'grid2' },
      field({ label: '门店名称', name: 'name', required: true }),
      field({ label: '省份', name: 'province' }),
      field({ label: '城市', name: 'city' }),
      field({ label: '地址', name: 'address' }),
      field({ label: '纬度（GCJ-02）', name: 'latitude', type: 'number', attrs: { step: 'any' } }),
      field({ label: '经度（GCJ-02）', name: 'longitude', type: 'number', attrs: { step: 'any' } }),
      field({ label: '店员 userid', name: 'staff', hint: '逗号分隔' }),
      field({ label: '门店群 chat_id', name: 'group_chat_id' })),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', text: '创建' }),
      h('a', { href: '#/stores', class: 'button', text: '取消' })));
  form.addEventListener('submit', submitter(form, box, '/stores', () => {
    const spec = { name: val(form, 'name'), province: val(form, 'province'), city: val(form, 'city'), address: val(form, 'address'),
      latitude: intOrNull(val(form, 'latitude')), longitude: intOrNull(val(form, 'longitude')),
      staff: { members: list(val(form, 'staff')).map((userid) => ({ userid })) } };
    if (val(form, 'group_chat_id')) spec.group_chat_id = val(form, 'group_chat_id');
    return spec;
  }, (s) => { toast('已创建：' + s.name); ctx.go('#/stores'); }));
  return h('section', { class: 'page' }, h('div', { class: 'page-head' }, h('h1', { text: '新建门店' })), form);
}
