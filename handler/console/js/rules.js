// 标签规则 tag rules: the list in priority order, enable/disable, and the
// form for a rule's trigger, conditions and actions in the API's shape.

import { get, post, patch } from './api.js';
import { h, field, val, list, number, errorBox, showError, clearErrors, table, badge, toast } from './dom.js';
import { fetchAll } from './list.js';
import { WEEKDAYS, deleteBar, timeZoneOptions } from './channels.js';
import { STAGES, BANT, ANSWERS } from './leads.js';
import { catalogueCard } from './tags.js';

const TRIGGERS = [
  ['contact_added', '添加好友 contact_added'], ['joined_group', '入群 joined_group'], ['left_group', '退群 left_group'],
  ['lost', '流失 lost（客户删除了所有员工）'], ['stage_changed', '阶段变更 stage_changed'], ['field_changed', '字段变更 field_changed'],
];
const TRIGGER = Object.fromEntries(TRIGGERS.map(([k, l]) => [k, l.split(' ')[0]]));
const FIELDS = [['', '任何字段'], ['name', '姓名 name'], ['corp_name', '公司 corp_name'], ['mobile', '手机 mobile'], ['owner', '负责人 owner'],
  ...BANT.map(([k, l]) => ['bant.' + k, `BANT ${l.split(' ')[0]} bant.${k}`])];
const GENDERS = [['', '不限'], ['1', '男'], ['2', '女'], ['0', '未知']];
const STAGE = Object.fromEntries(STAGES);

// summary describes a rule's conditions and actions in one line each.
function conditionText(c) {
  const p = [];
  if (c.to_stage) p.push('进入' + (STAGE[c.to_stage] || c.to_stage));
  if (c.field) p.push('字段 ' + c.field);
  if ((c.code_ids || []).length) p.push('活码 #' + c.code_ids.join('、#'));
  if ((c.store_ids || []).length) p.push('门店 #' + c.store_ids.join('、#'));
  if ((c.chat_ids || []).length) p.push('群 ' + c.chat_ids.join('、'));
  if ((c.weekdays || []).length) p.push('周' + c.weekdays.map((d) => WEEKDAYS[d]).join(''));
  if (c.start) p.push(`${c.start}–${c.end}${c.time_zone ? ' ' + c.time_zone : ''}`);
  if ((c.tags_all || []).length) p.push('有标签 ' + c.tags_all.join('、'));
  if ((c.tags_none || []).length) p.push('无标签 ' + c.tags_none.join('、'));
  if (c.corp_name_set !== undefined && c.corp_name_set !== null) p.push(c.corp_name_set ? '已填公司' : '未填公司');
  if (c.gender !== undefined && c.gender !== null) p.push('性别' + Object.fromEntries(GENDERS)[String(c.gender)]);
  if (c.min_score != null || c.max_score != null) p.push(`分数 ${c.min_score ?? ''}–${c.max_score ?? ''}`);
  return p.join('；') || '任何时候';
}

function actionText(a) {
  const p = [];
  if ((a.add_tags || []).length) p.push('加标签 ' + a.add_tags.join('、'));
  if ((a.remove_tags || []).length) p.push('去标签 ' + a.remove_tags.join('、'));
  if (a.score_delta) p.push(`分数 ${a.score_delta > 0 ? '+' : ''}${a.score_delta}`);
  for (const [f, v] of Object.entries(a.set_bant || {})) p.push(`BANT ${f}=${ANSWERS[v.value] || v.value}`);
  return p.join('；') || '—';
}

export async function listPage(ctx) {
  const admin = ctx.can('editRules');
  const res = await get('/tag-rules');
  const t = table([
    { label: '优先级', cls: 'num', render: (r) => String(r.priority) },
    { label: '名称', render: (r) => (admin ? h('a', { href: '#/rules/' + r.id, class: 'name', text: r.name }) : h('span', { class: 'name', text: r.name })) },
    { label: '触发', render: (r) => TRIGGER[r.trigger] || r.trigger },
    { label: '条件', render: (r) => conditionText(r.conditions || {}) },
    { label: '动作', render: (r) => actionText(r.actions || {}) },
    { label: '状态', render: (r) => (r.enabled ? badge('启用', 'ok') : badge('停用')) },
    { label: '', cls: 'row-actions', render: (r) => (admin ? toggleButton(r) : '') },
  ], '还没有标签规则');
  t.add(res.tag_rules || []);
  return h('section', { class: 'page', id: 'rules' },
    h('div', { class: 'page-head' }, h('h1', { text: '标签规则' }),
      admin ? h('a', { href: '#/rules/new', class: 'button primary', id: 'new-rule', text: '新建规则' }) : null),
    h('p', { class: 'muted', text: '按优先级从小到大执行；每条规则对同一线索的同一事件只执行一次。' }),
    t.el,
    admin ? await catalogueCard(ctx) : null);
}

// toggleButton enables or disables a rule in place.
function toggleButton(r) {
  const b = h('button', { type: 'button', class: 'small', data: { role: 'toggle' }, text: r.enabled ? '停用' : '启用' });
  b.addEventListener('click', async () => {
    b.disabled = true;
    try {
      const saved = await patch('/tag-rules/' + r.id, { enabled: !r.enabled });
      r.enabled = saved.enabled;
      b.textContent = r.enabled ? '停用' : '启用';
      b.closest('tr').querySelector('td[data-label="状态"]').replaceChildren(r.enabled ? badge('启用', 'ok') : badge('停用'));
      toast(r.enabled ? `已启用：${r.name}` : `已停用：${r.name}`);
    } catch (e) {
      toast('操作失败：' + e.message);
    } finally {
      b.disabled = false;
    }
  });
  return b;
}

// picks is a checkbox list of items (id, name) named by an API field; ids
// chosen but not listed (a code since deleted) stay as "#id".
function picks(name, items, chosen, empty) {
  const known = new Set(items.map((x) => x.id));
  const extra = chosen.filter((id) => !known.has(id)).map((id) => ({ id, name: '#' + id }));
  const all = [...items, ...extra];
  return h('div', { class: 'picks', data: { field: name } }, all.length ? all.map((x) =>
    h('label', { class: 'pick' }, h('input', { type: 'checkbox', value: x.id, checked: chosen.includes(x.id), data: { role: name } }), ' ', x.name,
      h('small', { class: 'muted', text: ` #${x.id}` }))) : h('p', { class: 'muted', text: empty }));
}

function picked(form, name) {
  return [...form.querySelectorAll(`[data-role="${name}"]:checked`)].map((x) => Number(x.value));
}

// group is a titled block of a form; its data-field lets an error on the
// block as a whole (conditions, actions) point at it.
function group(title, name, hint, ...children) {
  return h('fieldset', { class: 'group', data: { field: name } }, h('legend', { text: title }), hint ? h('p', { class: 'muted hint', text: hint }) : null, children);
}

function tribool(v) {
  return v === true ? 'true' : v === false ? 'false' : '';
}

export async function formPage(ctx) {
  const id = ctx.params[0];
  const [rule, codes, stores, tags] = await Promise.all([
    id ? get('/tag-rules/' + id) : null,
    fetchAll('/channel-codes', 'channel_codes'),
    fetchAll('/stores', 'stores'),
    get('/tags').then((r) => r.tags || []).catch(() => []),
  ]);
  const r = rule || { name: '', priority: 100, enabled: true, trigger: 'contact_added', conditions: {}, actions: {} };
  const c = r.conditions || {};
  const a = r.actions || {};
  const days = new Set(c.weekdays || []);
  const box = errorBox();
  const trigger = field({ label: '触发', name: 'trigger', type: 'select', value: r.trigger, options: TRIGGERS });
  const toStage = field({ label: '进入阶段', name: 'conditions.to_stage', type: 'select', value: c.to_stage || '', options: [['', '任何阶段'], ...STAGES] });
  const changed = field({ label: '变更的字段', name: 'conditions.field', type: 'select', value: c.field || '', options: FIELDS });
  const chats = field({ label: '群聊 chat_id（一行一个；不填：任何群）', name: 'conditions.chat_ids', type: 'textarea', rows: 2, wide: true,
    value: (c.chat_ids || []).join('\n') });
  const catalogue = tags.length ? `标签库中的标签：${tags.map((x) => x.name).join('、')}` : '标签须已在企业微信标签库中';

  const form = h('form', { class: 'card form', id: 'rule-form' },
    box,
    h('div', { class: 'grid2' },
      field({ label: '名称', name: 'name', required: true, value: r.name, placeholder: '如：展会加分' }),
      field({ label: '优先级', name: 'priority', type: 'number', value: r.priority, hint: '数字小的先执行' }),
      trigger,
      field({ label: '启用', name: 'enabled', type: 'checkbox', value: r.enabled !== false })),
    group('条件', 'conditions', '全部满足才执行；不填的条件不限。',
      h('div', { class: 'grid2' }, toStage, changed), chats,
      h('div', { class: 'grid2' },
        h('div', { class: 'field' }, h('span', { class: 'label', text: '来源渠道活码' }),
          picks('conditions.code_ids', codes.map((x) => ({ id: x.id, name: x.name })), c.code_ids || [], '还没有渠道活码')),
        h('div', { class: 'field' }, h('span', { class: 'label', text: '来源门店' }),
          picks('conditions.store_ids', stores.map((x) => ({ id: x.id, name: x.name })), c.store_ids || [], '还没有门店'))),
      h('div', { class: 'field' }, h('span', { class: 'label', text: '星期（不选：每天）' }),
        h('div', { class: 'weekdays', role: 'group', 'aria-label': '星期', data: { field: 'conditions.weekdays' } }, WEEKDAYS.map((d, i) =>
          h('label', { class: 'day' }, h('input', { type: 'checkbox', value: i, checked: days.has(i), data: { role: 'day' } }), d)))),
      h('div', { class: 'grid3' },
        field({ label: '开始', name: 'conditions.start', value: c.start || '', placeholder: '09:00', attrs: { inputmode: 'numeric' } }),
        field({ label: '结束（不含）', name: 'conditions.end', value: c.end || '', placeholder: '18:00', attrs: { inputmode: 'numeric' } }),
        field({ label: '时区', name: 'conditions.time_zone', type: 'select', value: c.time_zone || '', options: timeZoneOptions(c.time_zone, '默认（Asia/Shanghai）') })),
      h('div', { class: 'grid2' },
        field({ label: '须有全部标签', name: 'conditions.tags_all', value: (c.tags_all || []).join('，'), hint: '逗号分隔' }),
        field({ label: '须没有任何标签', name: 'conditions.tags_none', value: (c.tags_none || []).join('，'), hint: '逗号分隔' }),
        field({ label: '公司', name: 'conditions.corp_name_set', type: 'select', value: tribool(c.corp_name_set),
          options: [['', '不限'], ['true', '已填写公司'], ['false', '未填写公司']] }),
        field({ label: '性别', name: 'conditions.gender', type: 'select', value: c.gender ?? '', options: GENDERS }),
        field({ label: '最低分', name: 'conditions.min_score', type: 'number', value: c.min_score ?? '' }),
        field({ label: '最高分', name: 'conditions.max_score', type: 'number', value: c.max_score ?? '' }))),
    group('动作', 'actions', '按此顺序执行：加标签、去标签、加减分、设置 BANT。' + catalogue,
      h('div', { class: 'grid2' },
        field({ label: '添加标签', name: 'actions.add_tags', value: (a.add_tags || []).join('，'), hint: '逗号分隔' }),
        field({ label: '移除标签', name: 'actions.remove_tags', value: (a.remove_tags || []).join('，'), hint: '逗号分隔' }),
        field({ label: '分数增减', name: 'actions.score_delta', type: 'number', value: a.score_delta || '', placeholder: '如 10 或 -5',
          hint: '计入线索得分明细“规则 规则名”' })),
      h('div', { class: 'bant-set' }, BANT.map(([k, label]) => {
        const cur = (a.set_bant || {})[k] || {};
        return h('div', { class: 'grid2', data: { field: 'actions.set_bant.' + k } },
          field({ label: `设置 ${label}`, name: `actions.set_bant.${k}.value`, type: 'select', value: cur.value || '',
            options: [['', '不变'], ...Object.entries(ANSWERS)] }),
          field({ label: '备注', name: `actions.set_bant.${k}.note`, value: cur.note || '' }));
      }))),
    h('div', { class: 'actions sticky' },
      h('button', { type: 'submit', class: 'primary', id: 'save-rule', text: rule ? '保存' : '创建' }),
      h('a', { href: '#/rules', class: 'button', text: '取消' })));

  const sync = () => {
    const tr = trigger.querySelector('select').value;
    toStage.hidden = tr !== 'stage_changed';
    changed.hidden = tr !== 'field_changed';
    chats.hidden = tr !== 'joined_group' && tr !== 'left_group';
  };
  trigger.querySelector('select').addEventListener('change', sync);
  sync();

  // spec reads the form as the API's rule. Every condition is sent, empty
  // or null when unset, so an edit clears what was removed.
  const spec = () => {
    const tr = val(form, 'trigger');
    const opt = (name) => (val(form, name) === '' ? null : number(val(form, name)));
    const setBant = {};
    for (const [k] of BANT) {
      const v = val(form, `actions.set_bant.${k}.value`);
      if (v) setBant[k] = { value: v, note: val(form, `actions.set_bant.${k}.note`) };
    }
    return {
      name: val(form, 'name'), priority: number(val(form, 'priority')) ?? 0, enabled: val(form, 'enabled'), trigger: tr,
      conditions: {
        code_ids: picked(form, 'conditions.code_ids'), store_ids: picked(form, 'conditions.store_ids'),
        chat_ids: tr === 'joined_group' || tr === 'left_group' ? list(val(form, 'conditions.chat_ids')) : [],
        weekdays: [...form.querySelectorAll('[data-role="day"]:checked')].map((x) => Number(x.value)),
        start: val(form, 'conditions.start'), end: val(form, 'conditions.end'), time_zone: val(form, 'conditions.time_zone'),
        tags_all: list(val(form, 'conditions.tags_all')), tags_none: list(val(form, 'conditions.tags_none')),
        corp_name_set: val(form, 'conditions.corp_name_set') === '' ? null : val(form, 'conditions.corp_name_set') === 'true',
        gender: opt('conditions.gender'), min_score: opt('conditions.min_score'), max_score: opt('conditions.max_score'),
        to_stage: tr === 'stage_changed' ? val(form, 'conditions.to_stage') : '',
        field: tr === 'field_changed' ? val(form, 'conditions.field') : '',
      },
      actions: {
        add_tags: list(val(form, 'actions.add_tags')), remove_tags: list(val(form, 'actions.remove_tags')),
        score_delta: number(val(form, 'actions.score_delta')) ?? 0,
        set_bant: Object.keys(setBant).length ? setBant : null,
      },
    };
  };

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form, box);
    const btn = form.querySelector('button[type=submit]');
    btn.disabled = true;
    try {
      const saved = rule ? await patch('/tag-rules/' + rule.id, spec()) : await post('/tag-rules', spec());
      toast(rule ? '已保存' : `已创建：${saved.name}`);
      ctx.go('#/rules');
    } catch (e) {
      showError(form, box, e);
    } finally {
      btn.disabled = false;
    }
  });

  return h('section', { class: 'page', id: 'rule-edit' },
    h('div', { class: 'page-head' }, h('h1', { text: rule ? rule.name : '新建标签规则' })),
    form,
    rule ? deleteBar(ctx, { path: '/tag-rules/' + rule.id, back: '#/rules', label: '删除规则', askId: 'delete-rule',
      what: `确定删除规则“${rule.name}”？它不再对之后的事件执行。` }) : null);
}
