// 客户 contacts: the list, and a contact's profile, relations and timeline.

import { get } from './api.js';
import { h, field, val, table, badge, fmtTime, msg } from './dom.js';
import { pagedTable, channelCodeNames } from './list.js';
import { stageBadge } from './leads.js';
import { staffPicker, staffRef } from './staff.js';

const GENDER = { 0: '未知', 1: '男', 2: '女' };
const TYPE = { 1: '微信用户', 2: '企业微信用户' };
const SOURCES = { channel: '渠道活码', store: '门店活码', group: '群活码', unknown: '未知来源' };
const RELATION = { active: '正常', lost: '客户已删除员工', deleted: '员工已删除客户', transferred: '已转接' };
const RELATION_KIND = { active: 'ok', lost: 'warn', deleted: 'warn' };
const TIMELINE = {
  added: '添加员工', lost: '删除员工（流失）', deleted: '被员工删除', transferred: '转接给其他员工',
  joined_group: '入群', left_group: '退群',
};

// sourceText is a contact's source with its channel code's name (names, see
// channelCodeNames; a code it lacks shows as its id).
function sourceText(c, names) {
  const kind = SOURCES[c.source] || c.source || '—';
  if (!c.source_code_id) return kind;
  const name = c.source === 'channel' ? names.get(String(c.source_code_id)) : '';
  return `${kind}：${name || '#' + c.source_code_id}`;
}

export async function listPage(ctx) {
  const q = ctx.query;
  const names = await channelCodeNames();
  const filter = h('form', { class: 'filters', id: 'contact-filters' },
    field({ label: '渠道活码', name: 'code', type: 'select', value: q.get('code') || '',
      options: [['', '全部'], ...[...names].map(([id, name]) => [id, name])] }),
    field({ label: '员工', name: 'staff', value: q.get('staff') || '', placeholder: 'userid', attrs: { list: staffPicker(), autocomplete: 'off' } }),
    field({ label: '标签', name: 'tag', value: q.get('tag') || '' }),
    field({ label: '搜索', name: 'q', value: q.get('q') || '', placeholder: '姓名、公司、外部联系人 ID' }),
    h('div', { class: 'actions' }, h('button', { type: 'submit', text: '筛选' })));
  const list = pagedTable({
    filter, empty: '没有符合条件的客户', moreId: 'more-contacts',
    columns: [
      { label: '客户', render: (c) => [h('a', { href: '#/contacts/' + c.id, class: 'name', text: c.name || c.external_userid }),
        c.corp_name ? h('div', { class: 'muted', text: c.corp_name }) : null] },
      { label: '性别', render: (c) => GENDER[c.gender] || '未知' },
      { label: '来源', render: (c) => sourceText(c, names) },
      { label: '首次添加', render: (c) => fmtTime(c.first_seen_at) },
      { label: '更新', render: (c) => fmtTime(c.updated_at) },
    ],
    fetch: async (after) => {
      const res = await get('/contacts', { code: val(filter, 'code'), staff: val(filter, 'staff'), tag: val(filter, 'tag'),
        q: val(filter, 'q'), after, limit: 50 });
      return [res.contacts || [], res.next_after];
    },
  });
  await list.load();
  return h('section', { class: 'page', id: 'contacts' }, h('div', { class: 'page-head' }, h('h1', { text: '客户' })), list.nodes);
}

// leadOf finds the contact's lead (the one it was merged into, for a person
// merged by unionid); null when there is none or the token may not see it.
async function leadOf(c) {
  try {
    const res = await get('/leads', { contact: c.id, limit: 1 });
    return (res.leads || [])[0] || null;
  } catch {
    return null;
  }
}

async function sourceCode(c) {
  if (c.source !== 'channel' || !c.source_code_id) return null;
  try {
    return await get('/channel-codes/' + c.source_code_id);
  } catch {
    return null;
  }
}

function tagNames(tags) {
  return (tags || []).map((t) => (typeof t === 'string' ? t : t && (t.name || t.tag_name || t.id))).filter(Boolean);
}

export async function detailPage(ctx) {
  const res = await get('/contacts/' + ctx.params[0]);
  const c = res.contact || {};
  const [lead, code] = await Promise.all([leadOf(c), sourceCode(c)]);

  let source = SOURCES[c.source] || c.source || '—';
  if (code) source = [source + '：', h('a', { href: '#/channels/' + code.id, id: 'contact-code', text: code.name })];
  else if (c.source_code_id) source = `${source}：#${c.source_code_id}`;
  const facts = h('dl', { class: 'facts' },
    [['公司', c.corp_name], ['性别', GENDER[c.gender] || '未知'], ['类型', TYPE[c.type] || ''], ['UnionID', c.unionid],
      ['外部联系人', c.external_userid]].map(([k, v]) => [h('dt', { text: k }), h('dd', { text: v || '—' })]),
    h('dt', { text: '来源' }), h('dd', null, source),
    [['渠道参数', c.state], ['首次添加', fmtTime(c.first_seen_at)], ['资料获取', fmtTime(c.profile_fetched_at)], ['更新', fmtTime(c.updated_at)]]
      .map(([k, v]) => [h('dt', { text: k }), h('dd', { text: v || '—' })]),
    h('dt', { text: '线索' }), h('dd', null, lead
      ? [h('a', { href: '#/leads/' + lead.id, id: 'contact-lead', text: `线索 #${lead.id}` }), ' ', stageBadge(lead.stage)]
      : '—'));

  const rels = table([
    { label: '员工', render: (r) => h('span', { class: 'name' }, staffRef(r.userid)) },
    { label: '状态', render: (r) => [badge(RELATION[r.status] || r.status, RELATION_KIND[r.status]), r.half_added ? badge('单向添加') : null] },
    { label: '备注', render: (r) => r.remark || '—' },
    { label: '标签', render: (r) => (r.tags.length ? r.tags.map((x) => badge(x, 'tag')) : '—') },
    { label: '渠道参数', render: (r) => (r.state ? h('code', { text: r.state }) : '—') },
    { label: '添加时间', render: (r) => fmtTime(r.added_at) },
    { label: '流失', render: (r) => (r.lost_at ? [fmtTime(r.lost_at), r.loss_reason ? h('div', { class: 'muted', text: msg(r.loss_message, r.loss_reason) }) : null] : '—') },
  ], '没有跟进员工');
  rels.add((res.relations || []).map((x) => ({ ...(x.relation || {}), tags: tagNames(x.tags), loss_message: x.loss_message })));

  const timeline = table([
    { label: '时间', render: (e) => fmtTime(e.at) },
    { label: '事件', render: (e) => badge(TIMELINE[e.kind] || e.kind, e.kind === 'lost' || e.kind === 'deleted' ? 'warn' : '') },
    { label: '员工', render: (e) => staffRef(e.userid) },
    { label: '详情', cls: 'detail', render: (e) => msg(e.message, e.detail) || '—' },
  ], '还没有记录');
  timeline.add((res.timeline || []).slice().reverse());

  return h('section', { class: 'page', id: 'contact' },
    h('div', { class: 'page-head' }, h('h1', null, h('span', { class: 'name', text: c.name || c.external_userid })),
      h('a', { href: '#/contacts', class: 'button', text: '返回列表' })),
    h('div', { class: 'card' }, facts),
    h('h2', { text: '跟进员工' }), rels.el,
    h('h2', { text: '时间线' }), timeline.el);
}
