// 事件: the inbox of stored WeCom callbacks.

import { get } from './api.js';
import { h, field, val, badge, fmtTime, failure } from './dom.js';
import { pagedTable } from './list.js';

const STATUS = [['', '全部'], ['pending', '待处理 pending'], ['processing', '处理中 processing'], ['processed', '已处理 processed'],
  ['ignored', '已忽略 ignored'], ['failed', '失败 failed']];
const KIND = { processed: 'ok', failed: 'warn' };

export async function page(ctx) {
  const filter = h('form', { class: 'filters', id: 'event-filters' },
    field({ label: '状态', name: 'status', type: 'select', value: ctx.query.get('status') || '', options: STATUS }),
    field({ label: '类型', name: 'type', placeholder: 'change_external_contact/add_external_contact' }),
    h('div', { class: 'actions' }, h('button', { type: 'submit', text: '筛选' })));
  const list = pagedTable({
    filter, empty: '没有事件',
    columns: [
      { label: 'ID', cls: 'num', render: (e) => String(e.id) },
      { label: '类型', render: (e) => h('code', { text: e.type }) },
      { label: '状态', render: (e) => badge(e.status, KIND[e.status]) },
      { label: '次数', cls: 'num', render: (e) => String(e.attempts) },
      { label: '员工', render: (e) => e.user_id || '—' },
      { label: '客户', render: (e) => e.external_user_id || '—' },
      { label: '收到', render: (e) => fmtTime(e.received_at) },
      { label: '错误', render: (e) => failure(e.error_message, e.error) },
    ],
    fetch: async (before) => {
      const res = await get('/events', { status: val(filter, 'status'), type: val(filter, 'type'), before, limit: 50 });
      return [res.events || [], res.next_before];
    },
  });
  await list.load();
  return h('section', { class: 'page', id: 'events' }, h('div', { class: 'page-head' }, h('h1', { text: '事件' })), list.nodes);
}
