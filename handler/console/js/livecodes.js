// 群活码 group codes, 门店活码 store codes and the stores behind them.

import { get, post, patch, upload } from './api.js';
import { h, field, val, list, number, errorBox, showError, clearErrors, badge, toast, msg } from './dom.js';
import { pagedTable, fetchAll } from './list.js';
import { posterButtons, qrPreview, utmFields, readUTM, deleteBar, rosterEditor } from './channels.js';
import { codeCharts } from './charts.js';
import { staffRef } from './staff.js';

// pagedList shows a list endpoint as a table with a "more" button.
async function pagedList(path, key, columns, empty) {
  const list = pagedTable({ columns, empty, fetch: async (after) => {
    const res = await get(path, { after, limit: 100 });
    return [res[key] || [], res.next_after];
  } });
  await list.load();
  return h('div', null, list.nodes);
}

// submitter creates (POST path) or, given an id, changes (PATCH path/id)
// what spec() reads from the form, and shows an error at its field.
function submitter(form, box, path, id, spec, done) {
  return async (ev) => {
    ev.preventDefault();
    clearErrors(form, box);
    const btn = form.querySelector('button[type=submit]');
    btn.disabled = true;
    try {
      done(await (id ? patch(`${path}/${id}`, spec()) : post(path, spec())));
    } catch (e) {
      showError(form, box, e);
    } finally {
      btn.disabled = false;
    }
  };
}

// nameCell links a row's name to its form for those who may change it.
function nameCell(ctx, href, name) {
  return ctx.can('editCode') ? h('a', { href, class: 'name', text: name }) : h('span', { class: 'name', text: name });
}

// saved is what a form does once the API has kept it.
function saved(ctx, id, back) {
  return (x) => { toast(id ? '已保存' : '已创建：' + x.name); ctx.go(back); };
}

// formHead is a form screen's title with its poster button when editing.
function formHead(title, poster) {
  return h('div', { class: 'page-head' }, h('h1', { text: title }), poster);
}

function formActions(id, back, saveId) {
  return h('div', { class: 'actions sticky' }, h('button', { type: 'submit', class: 'primary', id: saveId, text: id ? '保存' : '创建' }),
    h('a', { href: back, class: 'button', text: '取消' }));
}

export async function groupsPage(ctx) {
  const lst = await pagedList('/group-codes', 'group_codes', [
    { label: '名称', render: (g) => nameCell(ctx, '#/groups/' + g.id, g.name) },
    { label: '标题', render: (g) => g.title || '—' },
    { label: '群数', cls: 'num', render: (g) => String((g.pool || []).length) },
    { label: '满员阈值', cls: 'num', render: (g) => String(g.threshold) },
    { label: '状态', render: (g) => (g.alert ? badge(msg(g.alert_message, g.alert), 'warn') : g.dry ? badge('群已满', 'warn') : badge('正常', 'ok')) },
    { label: '', cls: 'row-actions', render: (g) => posterButtons('group-codes', g) },
  ], '还没有群活码');
  return h('section', { class: 'page', id: 'groups' },
    h('div', { class: 'page-head' }, h('h1', { text: '群活码' }),
      ctx.can('createCode') ? h('a', { href: '#/groups/new', class: 'button primary', text: '新建群活码' }) : null),
    lst);
}

export async function groupFormPage(ctx) {
  const id = ctx.params[0];
  const g = id ? await get('/group-codes/' + id) : null;
  const chats = g ? (g.pool || []).slice().sort((a, b) => a.position - b.position).map((c) => c.chat_id) : [];
  const ac = g && g.auto_create;
  const box = errorBox();
  const form = h('form', { class: 'card form', id: 'group-form' },
    box,
    h('div', { class: 'grid2' },
      field({ label: '名称', name: 'name', required: true, value: g ? g.name : '' }),
      field({ label: '落地页标题', name: 'title', placeholder: '加入展会交流群', value: g ? g.title : '' }),
      field({ label: '满员阈值', name: 'threshold', type: 'number', value: g ? g.threshold : 200, hint: '群人数达到后换下一个群' })),
    field({ label: '群聊 chat_id（按顺序，一行一个）', name: 'chat_ids', type: 'textarea', rows: 4, wide: true, value: chats.join('\n'),
      hint: g ? '保存时按此列表替换群池' : '' }),
    field({ label: '落地页说明', name: 'text', type: 'textarea', rows: 2, wide: true, value: g ? g.text : '' }),
    field({ label: '入群欢迎语', name: 'welcome', type: 'textarea', rows: 2, wide: true, value: g ? g.welcome : '' }),
    h('fieldset', { class: 'group', data: { field: 'auto_create' } }, h('legend', { text: '群满时自动建群' }),
      h('p', { class: 'hint', text: '所有群都满员时，由企业微信按“新群名称 + 编号”自动创建新群。' }),
      h('div', { class: 'grid2' },
        field({ label: '自动建群', name: 'auto_create.enabled', type: 'checkbox', value: !!(ac && ac.enabled) }),
        field({ label: '新群名称', name: 'auto_create.room_base_name', value: (ac && ac.room_base_name) || '', placeholder: '不填：活码名称' }),
        field({ label: '起始编号', name: 'auto_create.room_base_id', type: 'number', value: ac && ac.room_base_id ? ac.room_base_id : '', placeholder: '0' }))),
    utmFields(g && g.utm),
    formActions(g, '#/groups', 'save-group'));
  form.addEventListener('submit', submitter(form, box, '/group-codes', id, () => {
    const spec = { name: val(form, 'name'), title: val(form, 'title'), text: val(form, 'text'), welcome: val(form, 'welcome'),
      threshold: number(val(form, 'threshold')), utm: readUTM(form),
      auto_create: { enabled: val(form, 'auto_create.enabled'), room_base_name: val(form, 'auto_create.room_base_name'),
        room_base_id: number(val(form, 'auto_create.room_base_id')) ?? 0 } };
    const ids = list(val(form, 'chat_ids'));
    if (!g || ids.join('\n') !== chats.join('\n')) spec.chat_ids = ids; // an edit replaces the pool only when it changed
    return spec;
  }, saved(ctx, id, '#/groups')));
  return h('section', { class: 'page', id: 'group-edit' },
    formHead(g ? g.name : '新建群活码', g ? posterButtons('group-codes', g) : null),
    g ? qrPreview('group-codes', g.id) : null,
    g ? codeCharts('group-codes', g.id) : null,
    form,
    g && ctx.can('deleteCode') ? deleteBar(ctx, { path: '/group-codes/' + g.id, back: '#/groups', label: '删除群活码', askId: 'delete-group',
      what: `确定删除“${g.name}”？企业微信中的加入群聊方式（及入群欢迎语）会被删除，群与统计保留。` }) : null);
}

export async function storesPage(ctx) {
  const codes = await pagedList('/store-codes', 'store_codes', [
    { label: '名称', render: (c) => nameCell(ctx, '#/store-codes/' + c.id, c.name) },
    { label: '标题', render: (c) => c.title || '—' },
    { label: '门店数', cls: 'num', render: (c) => String((c.stores || []).length) },
    { label: '半径', cls: 'num', render: (c) => `${c.radius_m} 米` },
    { label: '提供', render: (c) => (c.offer === 'group' ? '门店群' : '店员') },
    { label: '告警', render: (c) => { const a = (c.stores || []).filter((s) => s.alert); return a.length ? badge(`${a.length} 家门店有告警`, 'warn') : '—'; } },
    { label: '', cls: 'row-actions', render: (c) => posterButtons('store-codes', c) },
  ], '还没有门店活码');
  const stores = await pagedList('/stores', 'stores', [
    { label: '门店', render: (s) => nameCell(ctx, '#/stores/' + s.id, s.name) },
    { label: '城市', render: (s) => [s.province, s.city].filter(Boolean).join(' ') || '—' },
    { label: '地址', render: (s) => s.address || '—' },
    { label: '店员', render: (s) => { const m = (s.staff && s.staff.members) || []; return m.length ? m.map((x, i) => [i ? '，' : '', staffRef(x.userid)]) : '—'; } },
    { label: '门店群', render: (s) => s.group_chat_id || '—' },
  ], '还没有门店');
  return h('section', { class: 'page', id: 'stores' },
    h('div', { class: 'page-head' }, h('h1', { text: '门店活码' }),
      ctx.can('createCode') ? h('a', { href: '#/store-codes/new', class: 'button primary', text: '新建门店活码' }) : null),
    codes,
    h('div', { class: 'page-head' }, h('h2', { text: '门店' }),
      ctx.can('createCode') ? h('a', { href: '#/stores/new', class: 'button', text: '新建门店' }) : null),
    ctx.can('createCode') ? importForm(ctx) : null,
    stores);
}

export async function storeCodeFormPage(ctx) {
  const id = ctx.params[0];
  const code = id ? await get('/store-codes/' + id) : null;
  const chosen = new Set(code ? (code.stores || []).map((s) => s.store_id) : []);
  const all = await fetchAll('/stores', 'stores');
  const box = errorBox();
  const picks = h('div', { class: 'picks', data: { field: 'store_ids' } }, all.length ? all.map((s) =>
    h('label', { class: 'pick' }, h('input', { type: 'checkbox', value: s.id, checked: chosen.has(s.id), data: { role: 'store' } }), ' ', s.name, ' ',
      h('small', { class: 'muted', text: [s.city, s.address].filter(Boolean).join(' ') }))) : h('p', { class: 'muted', text: '还没有门店，请先新建门店。' }));
  const form = h('form', { class: 'card form', id: 'store-code-form' },
    box,
    h('div', { class: 'grid2' },
      field({ label: '名称', name: 'name', required: true, value: code ? code.name : '' }),
      field({ label: '落地页标题', name: 'title', placeholder: '添加离您最近的门店顾问', value: code ? code.title : '' }),
      field({ label: '服务半径（米）', name: 'radius_m', type: 'number', value: code ? code.radius_m : 5000 }),
      field({ label: '提供', name: 'offer', type: 'select', value: code ? code.offer : 'staff', options: [['staff', '店员（加好友）'], ['group', '门店群（进群）']] }),
      field({ label: '超出半径时的门店', name: 'fallback_store_id', type: 'select', value: code && code.fallback_store_id ? code.fallback_store_id : '',
        options: [['', '不指定（让客户选城市）'], ...all.map((s) => [String(s.id), s.name])] })),
    h('h2', { text: '门店' }), picks,
    utmFields(code && code.utm),
    formActions(code, '#/stores', 'save-store-code'));
  form.addEventListener('submit', submitter(form, box, '/store-codes', id, () => {
    const spec = { name: val(form, 'name'), title: val(form, 'title'), offer: val(form, 'offer'), radius_m: number(val(form, 'radius_m')),
      store_ids: [...form.querySelectorAll('[data-role="store"]:checked')].map((x) => Number(x.value)), utm: readUTM(form) };
    if (val(form, 'fallback_store_id')) spec.fallback_store_id = Number(val(form, 'fallback_store_id'));
    return spec;
  }, saved(ctx, id, '#/stores')));
  return h('section', { class: 'page', id: 'store-code-edit' },
    formHead(code ? code.name : '新建门店活码', code ? posterButtons('store-codes', code) : null),
    code ? qrPreview('store-codes', code.id) : null,
    code ? codeCharts('store-codes', code.id, Object.fromEntries((code.stores || []).map((s) => [s.store_id, s.name]))) : null,
    form,
    code && ctx.can('deleteCode') ? deleteBar(ctx, { path: '/store-codes/' + code.id, back: '#/stores', label: '删除门店活码', askId: 'delete-store-code',
      what: `确定删除“${code.name}”？它在企业微信中的所有联系我方式都会被删除，客户与统计保留。` }) : null);
}

export async function storeFormPage(ctx) {
  const id = ctx.params[0];
  const st = id ? await get('/stores/' + id) : null;
  const staff = rosterEditor((st && st.staff && (st.staff.members || []).length) ? st.staff : { time_zone: 'Asia/Shanghai', members: [{ userid: '' }] },
    false, 'staff', false);
  const box = errorBox();
  const form = h('form', { class: 'card form', id: 'store-form' },
    box,
    h('div', { class: 'grid2' },
      field({ label: '门店名称', name: 'name', required: true, value: st ? st.name : '' }),
      field({ label: '省份', name: 'province', value: st ? st.province : '' }),
      field({ label: '城市', name: 'city', value: st ? st.city : '' }),
      field({ label: '地址', name: 'address', value: st ? st.address : '' }),
      field({ label: '纬度（GCJ-02）', name: 'latitude', type: 'number', attrs: { step: 'any' }, value: st ? st.latitude : '' }),
      field({ label: '经度（GCJ-02）', name: 'longitude', type: 'number', attrs: { step: 'any' }, value: st ? st.longitude : '' }),
      field({ label: '门店群 chat_id', name: 'group_chat_id', value: st ? st.group_chat_id : '' })),
    h('h2', { text: '店员排班' }),
    h('p', { class: 'hint', text: '顾客扫门店活码后添加此门店在岗的店员；门店不设每日上限。' }),
    staff.nodes,
    formActions(st, '#/stores', 'save-store'));
  form.addEventListener('submit', submitter(form, box, '/stores', id, () => {
    const spec = { name: val(form, 'name'), province: val(form, 'province'), city: val(form, 'city'), address: val(form, 'address'),
      latitude: number(val(form, 'latitude')), longitude: number(val(form, 'longitude')), staff: staff.collect(form) };
    if (val(form, 'group_chat_id') || st) spec.group_chat_id = val(form, 'group_chat_id');
    return spec;
  }, saved(ctx, id, '#/stores')));
  return h('section', { class: 'page', id: 'store-edit' }, formHead(st ? st.name : '新建门店', null), form,
    st && ctx.can('deleteCode') ? deleteBar(ctx, { path: '/stores/' + st.id, back: '#/stores', label: '删除门店', askId: 'delete-store',
      what: `确定删除门店“${st.name}”？它在各门店活码中的联系我方式会被停用。` }) : null);
}

// importForm imports stores from a CSV file (POST /api/v1/stores/import):
// good rows are kept, and each bad row is listed with its field and why.
function importForm(ctx) {
  const box = errorBox();
  const result = h('div', { class: 'import-result', id: 'import-result', hidden: true });
  const file = h('input', { type: 'file', name: 'file', id: 'f-import-file', 'aria-label': 'CSV 文件' });
  file.accept = '.csv,text/csv';
  const form = h('form', { class: 'card form', id: 'store-import' },
    h('h3', { text: '从 CSV 导入门店' }),
    h('p', { class: 'muted', text: 'UTF-8，带表头：门店名称、地址、省、市、纬度、经度（GCJ-02）、店员 userid（用 | 分隔）、门店群；最大 8 MB。正确的行会保存，错误的行逐行列出。' }),
    box, h('div', { data: { field: 'file' } }, file),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', id: 'import-stores', text: '导入' })),
    result);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form, box);
    if (!file.files.length) {
      showError(form, box, { message: '请选择 CSV 文件', field: 'file' });
      return;
    }
    const btn = form.querySelector('button[type=submit]');
    btn.disabled = true;
    try {
      const res = await upload('/stores/import', file.files[0]);
      const errs = res.errors || [];
      result.replaceChildren(
        h('p', { text: `已导入 ${res.imported} 家门店，${res.failed} 行有误。`, data: { imported: res.imported, failed: res.failed } }),
        errs.length ? h('table', { class: 'grid import-errors' },
          h('thead', null, h('tr', null, h('th', { text: '行' }), h('th', { text: '字段' }), h('th', { text: '原因' }))),
          h('tbody', null, errs.map((e) => h('tr', null, h('td', { class: 'num', text: String(e.row) }), h('td', { text: e.field || '—' }), h('td', { text: e.message }))))) : null,
        res.imported ? h('button', { type: 'button', class: 'small', text: '刷新门店列表', on: { click: () => ctx.go('#/stores?imported=' + Date.now()) } }) : null);
      result.hidden = false;
      if (res.imported) toast(`已导入 ${res.imported} 家门店`);
    } catch (e) {
      showError(form, box, e);
    } finally {
      btn.disabled = false;
    }
  });
  return form;
}
