// 线索 leads, a lead's detail, and the 漏斗 funnel.

import { get, post } from './api.js';
import { h, field, val, errorBox, showError, clearErrors, table, badge, fmtTime, toast, msg } from './dom.js';
import { pagedTable, channelCodeNames } from './list.js';
import { staffPicker, staffRef } from './staff.js';

export const STAGES = [
  ['raw', '新线索'], ['mql', 'MQL 市场认可'], ['sql', 'SQL 销售认可'], ['handed_off', '已移交 CRM'], ['accepted', 'CRM 已接受'],
  ['won', '赢单'], ['rejected', 'CRM 退回'], ['nurturing', '培育中'], ['lost', '已流失'],
];
const STAGE = Object.fromEntries(STAGES);
const FUNNEL_PATH = ['raw', 'mql', 'sql', 'handed_off', 'accepted', 'won'];
export const BANT = [['budget', '预算 Budget'], ['authority', '决策权 Authority'], ['need', '需求 Need'], ['timeline', '时间 Timeline']];
export const ANSWERS = { yes: '是', no: '否', unknown: '未知' };
const ACTORS = { system: '系统', score: '评分', admin: '管理员', crm: 'CRM' };

export function stageBadge(s) {
  if (!s) return '—';
  const kind = s === 'won' || s === 'accepted' ? 'ok' : s === 'lost' || s === 'rejected' ? 'warn' : '';
  return badge(STAGE[s] || s, 'stage ' + kind);
}

function source(l) {
  const s = l.source || {};
  return s.code_name || { channel: '渠道活码', store: '门店活码', group: '群活码' }[s.kind] || '—';
}

export async function listPage(ctx) {
  const q = ctx.query;
  const filter = h('form', { class: 'filters', id: 'lead-filters' },
    field({ label: '阶段', name: 'stage', type: 'select', value: q.get('stage') || '', options: [['', '全部'], ...STAGES] }),
    ctx.role === 'staff' ? null : field({ label: '负责人', name: 'owner', value: q.get('owner') || '', placeholder: 'userid', attrs: { list: staffPicker(), autocomplete: 'off' } }),
    field({ label: '标签', name: 'tag', value: q.get('tag') || '' }),
    field({ label: '最低分', name: 'min_score', type: 'number', value: q.get('min_score') || '' }),
    field({ label: '搜索', name: 'q', value: q.get('q') || '', placeholder: '姓名、公司、手机' }),
    h('div', { class: 'actions' }, h('button', { type: 'submit', text: '筛选' })));
  const list = pagedTable({
    filter, empty: '没有符合条件的线索', moreId: 'more-leads',
    columns: [
      { label: '客户', render: (l) => [h('a', { href: '#/leads/' + l.id, class: 'name', text: l.name || l.external_userid }),
        l.corp_name ? h('div', { class: 'muted', text: l.corp_name }) : null] },
      { label: '阶段', render: (l) => stageBadge(l.stage) },
      { label: '分数', cls: 'num', render: (l) => String(l.score) },
      { label: '负责人', render: (l) => staffRef(l.owner) },
      { label: '来源', render: source },
      { label: '标签', render: (l) => (l.tags || []).map((x) => badge(x, 'tag')) },
      { label: '最近活动', render: (l) => fmtTime(l.last_activity_at) },
    ],
    fetch: async (cursor) => {
      const res = await get('/leads', { stage: val(filter, 'stage'), owner: val(filter, 'owner'), tag: val(filter, 'tag'),
        min_score: val(filter, 'min_score'), q: val(filter, 'q'), cursor, limit: 50 });
      return [res.leads || [], res.next_cursor];
    },
  });
  await list.load();
  return h('section', { class: 'page', id: 'leads' },
    h('div', { class: 'page-head' }, h('h1', { text: '线索' }), ctx.role === 'staff' ? h('span', { class: 'muted', text: '只显示您负责的线索' }) : null),
    list.nodes);
}

export async function detailPage(ctx) {
  const id = ctx.params[0];
  const l = await get('/leads/' + id);
  const s = l.source || {};
  const facts = h('dl', { class: 'facts' },
    [['公司', l.corp_name], ['手机', l.mobile ? `${l.mobile}${l.mobile_valid ? '' : '（非大陆手机号）'}` : ''], ['负责人', l.owner ? staffRef(l.owner) : ''],
      ['来源', [source(l), s.staff ? `接待：${s.staff}` : ''].filter(Boolean).join('，')],
      ['外部联系人', l.external_userid], ['创建时间', fmtTime(l.created_at)], ['阶段变更', fmtTime(l.stage_changed_at)],
      ['最近活动', fmtTime(l.last_activity_at)]]
      .map(([k, v]) => [h('dt', { text: k }), v instanceof Node ? h('dd', null, v) : h('dd', { text: v || '—' })]),
    h('dt', { text: '标签' }), h('dd', null, (l.tags || []).length ? l.tags.map((x) => badge(x, 'tag')) : '—'));

  const score = table([
    { label: '原因', render: (x) => msg(x.reason_message, x.reason) },
    { label: '分值', cls: 'num', render: (x) => (x.points > 0 ? '+' : '') + x.points },
  ], '没有得分项');
  score.add(l.score_breakdown || []);

  const bant = table([
    { label: '项目', render: (x) => x.label },
    { label: '回答', render: (x) => ANSWERS[x.value] || x.value || '未知' },
    { label: '备注', render: (x) => x.note || '' },
  ]);
  bant.add(BANT.map(([k, label]) => ({ label, ...((l.bant || {})[k] || {}) })));

  const trans = table([
    { label: '时间', render: (x) => fmtTime(x.at) },
    { label: '变更', render: (x) => [stageBadge(x.from), ' → ', stageBadge(x.to)] },
    { label: '原因', render: (x) => msg(x.reason_message, x.reason) },
    { label: '操作者', render: (x) => [ACTORS[x.actor] || x.actor, x.actor_id ? `（${x.actor_id}）` : ''].join('') },
  ], '还没有阶段变更');
  trans.add((l.transitions || []).slice().reverse());

  return h('section', { class: 'page', id: 'lead' },
    h('div', { class: 'page-head' }, h('h1', null, h('span', { class: 'name', text: l.name || l.external_userid }), ' ', stageBadge(l.stage)),
      h('a', { href: '#/leads', class: 'button', text: '返回列表' })),
    h('div', { class: 'card' }, h('p', { class: 'score' }, '分数 ', h('strong', { text: String(l.score) })), facts),
    h('h2', { text: '得分明细' }), score.el,
    h('h2', { text: 'BANT 资格' }), bant.el,
    h('h2', { text: '阶段记录' }), trans.el,
    ctx.can('stage') ? stageForm(l, ctx) : null);
}

function stageForm(l, ctx) {
  const box = errorBox();
  const form = h('form', { class: 'card form', id: 'stage-form' },
    h('h2', { text: '变更阶段' }), box,
    h('div', { class: 'grid2' },
      field({ label: '新阶段', name: 'stage', type: 'select', value: '', options: [['', '请选择'], ...STAGES.filter(([k]) => k !== l.stage)] }),
      field({ label: '原因（必填）', name: 'reason' })),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', text: '变更' })));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form, box);
    try {
      const res = await post(`/leads/${l.id}/stage`, { stage: val(form, 'stage'), reason: val(form, 'reason') });
      toast('阶段已变更为 ' + (STAGE[res.stage] || res.stage));
      ctx.go('#/leads/' + l.id + '?t=' + Date.now());
    } catch (e) {
      showError(form, box, e);
    }
  });
  return form;
}

export async function funnelPage(ctx) {
  const box = errorBox();
  const q = ctx.query;
  const names = await channelCodeNames();
  const code = q.get('code') || '';
  const filter = h('form', { class: 'filters', id: 'funnel-filters' },
    field({ label: '开始日期', name: 'from', type: 'date', value: q.get('from') || '' }),
    field({ label: '结束日期', name: 'to', type: 'date', value: q.get('to') || '' }),
    field({ label: '渠道活码', name: 'code', type: 'select', value: code, options: [['', '全部'],
      ...(code && !names.has(code) ? [[code, '#' + code]] : []), ...names] }),
    h('div', { class: 'actions' }, h('button', { type: 'submit', text: '查看' })));
  const out = h('div');
  async function load() {
    clearErrors(filter, box);
    try {
      const f = await get('/funnel', { from: val(filter, 'from'), to: val(filter, 'to'), code: val(filter, 'code') });
      const counts = f.counts || {};
      const top = Math.max(1, ...FUNNEL_PATH.map((s) => counts[s] || 0));
      const rows = FUNNEL_PATH.map((s, i) => {
        const bar = h('div', { class: 'bar' });
        bar.style.width = `${Math.max(2, (100 * (counts[s] || 0)) / top)}%`;
        const conv = i > 0 ? (f.conversions || {})[`${FUNNEL_PATH[i - 1]}_to_${s}`] : null;
        return h('div', { class: 'funnel-row', data: { stage: s } },
          h('div', { class: 'funnel-label' }, stageBadge(s)),
          h('div', { class: 'funnel-bar' }, bar, h('span', { class: 'count', text: String(counts[s] || 0) })),
          h('div', { class: 'funnel-conv', text: conv === null ? '' : `转化 ${(100 * conv).toFixed(1)}%` }));
      });
      out.replaceChildren(
        h('p', { class: 'muted', text: `${fmtTime(f.from)} 至 ${fmtTime(f.to)} 期间到达各阶段的线索数` }),
        h('div', { class: 'funnel card' }, rows),
        h('h2', { text: '其他阶段' }),
        h('dl', { class: 'facts' }, ['rejected', 'nurturing', 'lost'].map((s) => [h('dt', null, stageBadge(s)), h('dd', { text: String(counts[s] || 0) })])));
    } catch (e) {
      showError(filter, box, e);
    }
  }
  filter.addEventListener('submit', (e) => { e.preventDefault(); load(); });
  await load();
  return h('section', { class: 'page', id: 'funnel' }, h('div', { class: 'page-head' }, h('h1', { text: '漏斗' })), box, filter, out);
}
