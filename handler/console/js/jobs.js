// 任务: the side-effect jobs (remarks, tags, profile fetches, syncs), newest
// first; a failed one shows why.

import { get } from './api.js';
import { h, field, val, badge, fmtTime, failure } from './dom.js';
import { pagedTable } from './list.js';

const STATUS = [['', '全部'], ['pending', '待处理 pending'], ['processing', '处理中 processing'], ['processed', '已完成 processed'],
  ['ignored', '已忽略 ignored'], ['failed', '失败 failed']];
const KIND = { processed: 'ok', failed: 'warn' };
const KINDS = ['follow_up', 'fetch_profile', 'remark', 'mark_tag', 'sync_way', 'upload_media', 'sync_join_way', 'reconcile_join_way', 'sync_store_way',
  'sync_tags', 'lead_activity', 'rescore'];
// KIND_NAMES are the job kinds in Chinese; the kind itself stays beside it.
const KIND_NAMES = {
  follow_up: '新客户跟进', fetch_profile: '拉取客户资料', remark: '设置备注', mark_tag: '打标签', sync_way: '同步联系我方式', upload_media: '上传素材',
  sync_join_way: '同步加入群聊方式', reconcile_join_way: '核对加入群聊方式', sync_store_way: '同步门店联系我方式',
  sync_tags: '同步标签库', lead_activity: '线索动态', rescore: '重新评分',
};
const PAGE = 50;

export async function page(ctx) {
  const q = ctx.query;
  const filter = h('form', { class: 'filters', id: 'job-filters' },
    field({ label: '状态', name: 'status', type: 'select', value: q.get('status') || '', options: STATUS }),
    field({ label: '类型', name: 'kind', value: q.get('kind') || '', placeholder: 'mark_tag', attrs: { list: 'job-kinds', spellcheck: 'false' } }),
    h('datalist', { id: 'job-kinds' }, KINDS.map((k) => h('option', { value: k }))),
    h('div', { class: 'actions' }, h('button', { type: 'submit', text: '筛选' })));
  const list = pagedTable({
    filter, empty: '没有任务', moreId: 'more-jobs',
    rowClass: (j) => (j.status === 'failed' ? 'failed' : null),
    columns: [
      { label: 'ID', cls: 'num', render: (j) => String(j.id) },
      { label: '类型', cls: 'kind', render: (j) => [KIND_NAMES[j.kind] ? h('span', { text: KIND_NAMES[j.kind] + ' ' }) : null, h('code', { class: 'name', text: j.kind }), j.key ? h('div', { class: 'muted key', text: j.key }) : null] },
      { label: '状态', cls: 'state', render: (j) => badge(j.status, KIND[j.status]) },
      { label: '次数', cls: 'num', render: (j) => String(j.attempts) },
      { label: '错误', cls: 'error', render: (j) => failure(j.error_message, j.error, '—') },
      { label: '可执行', cls: 'time', render: (j) => fmtTime(j.available_at) },
      { label: '更新', cls: 'time', render: (j) => fmtTime(j.processed_at || j.created_at) },
    ],
    fetch: async (before) => {
      const res = await get('/jobs', { status: val(filter, 'status'), kind: val(filter, 'kind'), before, limit: PAGE });
      return [res.jobs || [], res.next_before];
    },
  });
  await list.load();
  return h('section', { class: 'page', id: 'jobs' }, h('div', { class: 'page-head' }, h('h1', { text: '任务' })), list.nodes);
}
