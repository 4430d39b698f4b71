// Webhooks: endpoints (the secret shown once), deliveries, replay.

import { get, post, patch } from './api.js';
import { h, field, val, errorBox, showError, onCreate, table, badge, fmtTime, toast, showSecret } from './dom.js';
import { pagedTable } from './list.js';

const TYPES = ['lead.created', 'lead.stage_changed', 'lead.qualified', 'contact.added', 'contact.lost', 'contact.erased', 'group.joined'];
const STATUS = [['', '全部'], ['pending', '待发送 pending'], ['processing', '发送中 processing'], ['delivered', '已送达 delivered'], ['failed', '失败 failed']];
const STATUS_KIND = { delivered: 'ok', failed: 'warn' };

export async function page() {
  const section = h('section', { class: 'page', id: 'webhooks' });
  section.append(h('div', { class: 'page-head' }, h('h1', { text: 'Webhooks' })));
  section.append(await endpoints(), await deliveries());
  return section;
}

function endpointStatus(e) {
  if (!e.enabled) return badge('已停用' + (e.disabled_reason ? '：' + e.disabled_reason : ''), 'warn');
  if (e.failing_since) return badge('失败中，自 ' + fmtTime(e.failing_since), 'warn');
  return badge('启用', 'ok');
}

// toggleButton disables or enables an endpoint (PATCH enabled).
function toggleButton(ep) {
  const b = h('button', { type: 'button', class: 'small', data: { role: 'toggle' } });
  const label = () => { b.textContent = ep.enabled ? '停用' : '启用'; };
  label();
  b.addEventListener('click', async () => {
    b.disabled = true;
    try {
      Object.assign(ep, await patch(`/webhook-endpoints/${ep.id}`, { enabled: !ep.enabled }));
      b.closest('tr').querySelector('[data-role="status"]').replaceChildren(endpointStatus(ep));
      label();
      toast(`端点 ${ep.id} 已${ep.enabled ? '启用' : '停用'}`);
    } catch (e) {
      toast('操作失败：' + e.message);
    }
    b.disabled = false;
  });
  return b;
}

async function endpoints() {
  const box = errorBox();
  const t = table([
    { label: 'ID', cls: 'num', render: (e) => String(e.id) },
    { label: 'URL', render: (e) => h('code', { class: 'url', text: e.url }) },
    { label: '说明', render: (e) => e.description || '—' },
    { label: '事件', render: (e) => (e.event_types && e.event_types.length ? e.event_types.map((x) => badge(x, 'tag')) : '全部') },
    { label: '状态', render: (e) => h('span', { data: { role: 'status' } }, endpointStatus(e)) },
    { label: '', cls: 'row-actions', render: toggleButton },
  ], '还没有端点');
  const secret = h('div', { class: 'secret card', id: 'webhook-secret', role: 'alert', hidden: true });
  const form = h('form', { class: 'card form', id: 'endpoint-form', hidden: true },
    h('h2', { text: '新建端点' }), h('div', { class: 'error-slot' }),
    field({ label: 'URL', name: 'url', type: 'url', placeholder: 'https://crm.example.com/hooks/scrm', required: true, wide: true }),
    field({ label: '说明', name: 'description', wide: true }),
    h('fieldset', { class: 'types', data: { field: 'event_types' } }, h('legend', { text: '订阅事件（都不选：全部）' }),
      TYPES.map((x) => h('label', { class: 'pick' }, h('input', { type: 'checkbox', value: x, data: { role: 'type' } }), ' ', x))),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', text: '创建' }),
      h('button', { type: 'button', text: '取消', on: { click: () => { form.hidden = true; } } })));
  const formBox = errorBox();
  form.querySelector('.error-slot').replaceWith(formBox);
  onCreate(form, formBox, () => post('/webhook-endpoints', { url: val(form, 'url'), description: val(form, 'description'),
    event_types: [...form.querySelectorAll('[data-role="type"]:checked')].map((x) => x.value) }), (ep) => {
    t.add([ep]);
    showEndpointSecret(secret, ep);
  });
  try {
    const res = await get('/webhook-endpoints');
    t.add(res.webhook_endpoints || []);
  } catch (e) {
    showError(null, box, e);
  }
  return h('div', null,
    h('div', { class: 'page-head' }, h('h2', { text: '端点' }),
      h('button', { type: 'button', class: 'primary', id: 'new-endpoint', text: '新建端点', on: { click: () => { form.hidden = false; secret.hidden = true; } } })),
    box, secret, form, t.el);
}

function showEndpointSecret(el, ep) {
  showSecret(el, { title: `端点 ${ep.id} 的签名密钥只显示这一次，请立即保存到 CRM。`, secret: ep.secret, manual: '请手动复制选中的密钥',
    hint: '用它校验 webhook-signature（见 docs/WEBHOOKS.md）。丢失后只能轮换密钥。' });
}

async function deliveries() {
  const filter = h('form', { class: 'filters', id: 'delivery-filters' },
    field({ label: '状态', name: 'status', type: 'select', value: '', options: STATUS }),
    field({ label: '端点 ID', name: 'endpoint', type: 'number' }),
    field({ label: '事件类型', name: 'type', type: 'select', value: '', options: [['', '全部'], ...TYPES.map((x) => [x, x])] }),
    h('div', { class: 'actions' }, h('button', { type: 'submit', text: '筛选' })));
  const detail = h('div', { class: 'card', id: 'delivery-detail', hidden: true });
  const detailButton = (d) => h('button', { type: 'button', class: 'small', data: { role: 'detail' }, text: '详情',
    on: { click: () => showDelivery(detail, d.id) } });
  const replayButton = (d) => {
    if (d.status !== 'delivered' && d.status !== 'failed') return '';
    const b = h('button', { type: 'button', class: 'small', text: '重发' });
    b.addEventListener('click', async () => {
      b.disabled = true;
      try {
        await post(`/webhook-deliveries/${d.id}/replay`);
        toast(`投递 ${d.id} 已排队重发`);
        b.textContent = '已排队';
      } catch (e) {
        toast('重发失败：' + e.message);
        b.disabled = false;
      }
    });
    return b;
  };
  const list = pagedTable({
    filter, empty: '没有投递记录',
    columns: [
      { label: 'ID', cls: 'num', render: (d) => String(d.id) },
      { label: '端点', cls: 'num', render: (d) => String(d.endpoint_id) },
      { label: '事件', render: (d) => d.event_type },
      { label: '对象', render: (d) => d.subject || '—' },
      { label: '状态', render: (d) => badge(d.status, STATUS_KIND[d.status]) },
      { label: '次数', cls: 'num', render: (d) => String(d.attempts_made) },
      { label: '结果', render: (d) => [d.last_status_code ? `HTTP ${d.last_status_code} ` : '', d.error || ''].join('') || '—' },
      { label: '时间', render: (d) => fmtTime(d.finished_at || d.created_at) },
      { label: '', cls: 'row-actions', render: (d) => [detailButton(d), ' ', replayButton(d)] },
    ],
    fetch: async (before) => {
      const res = await get('/webhook-deliveries', { status: val(filter, 'status'), endpoint: val(filter, 'endpoint'), type: val(filter, 'type'), before, limit: 50 });
      return [res.deliveries || [], res.next_before];
    },
  });
  await list.load();
  return h('div', null, h('h2', { text: '投递记录' }), detail, list.nodes);
}

// showDelivery shows one delivery: its attempts (status, latency, response,
// error), the next attempt when pending, and the exact payload.
async function showDelivery(el, id) {
  const box = errorBox();
  el.replaceChildren(h('h3', { text: `投递 ${id}` }), box);
  el.hidden = false;
  try {
    const d = await get(`/webhook-deliveries/${id}`);
    const t = table([
      { label: '第几次', cls: 'num', render: (a) => String(a.attempt) },
      { label: '时间', render: (a) => fmtTime(a.at) },
      { label: 'HTTP', cls: 'num', render: (a) => (a.status_code ? String(a.status_code) : '—') },
      { label: '耗时', cls: 'num', render: (a) => `${a.latency_ms ?? 0} ms` },
      { label: '响应', render: (a) => (a.response ? h('code', { text: a.response }) : '—') },
      { label: '错误', render: (a) => a.error || '—' },
    ], '还没有尝试');
    t.add(d.attempts || []);
    const payload = typeof d.payload === 'string' ? d.payload : JSON.stringify(d.payload, null, 2);
    el.append(
      h('p', null, badge(d.status, STATUS_KIND[d.status]), ` ${d.event_type} · webhook-id `, h('code', { text: d.webhook_id || '' }),
        d.next_attempt_at ? ` · 下次尝试 ${fmtTime(d.next_attempt_at)}` : ''),
      t.el, h('h4', { text: '内容 payload' }), h('pre', { class: 'payload', text: payload || '' }),
      h('button', { type: 'button', class: 'small', text: '关闭', on: { click: () => { el.hidden = true; } } }));
  } catch (e) {
    showError(null, box, e);
  }
  el.scrollIntoView({ block: 'nearest' });
}
