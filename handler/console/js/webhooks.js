// Webhooks: endpoints (create, edit, disable/enable, test event, rotate
// the secret, delete; a secret is shown once), deliveries (detail, replay
// one, replay the failed ones matching a filter).

import { get, post, patch, del } from './api.js';
import { h, field, val, errorBox, showError, clearErrors, onCreate, table, badge, fmtTime, toast, showSecret, msg, failure } from './dom.js';
import { pagedTable } from './list.js';
import { confirmAction } from './confirm.js';

const TYPES = ['lead.created', 'lead.updated', 'lead.stage_changed', 'lead.qualified', 'lead.merged', 'contact.added', 'contact.lost',
  'contact.erased', 'group.joined'];
const STATUS = [['', '全部'], ['pending', '待发送 pending'], ['processing', '发送中 processing'], ['delivered', '已送达 delivered'], ['failed', '失败 failed']];
const STATUS_KIND = { delivered: 'ok', failed: 'warn' };

export async function page() {
  const section = h('section', { class: 'page', id: 'webhooks' });
  section.append(h('div', { class: 'page-head' }, h('h1', { text: 'Webhooks' })));
  const dl = await deliveries();
  section.append(await endpoints(dl.setEndpoints), dl.el);
  return section;
}

function endpointStatus(e) {
  if (!e.enabled) return badge('已停用' + (e.disabled_reason ? '：' + msg(e.disabled_reason_message, e.disabled_reason) : ''), 'warn');
  if (e.failing_since) return badge('失败中，自 ' + fmtTime(e.failing_since), 'warn');
  return badge('启用', 'ok');
}

// toggleButton disables or enables an endpoint (PATCH enabled).
function toggleButton(ep, redraw) {
  const b = h('button', { type: 'button', class: 'small', data: { role: 'toggle' }, text: ep.enabled ? '停用' : '启用' });
  b.addEventListener('click', async () => {
    b.disabled = true;
    try {
      redraw(await patch(`/webhook-endpoints/${ep.id}`, { enabled: !ep.enabled }));
      toast(`端点 ${ep.id} 已${ep.enabled ? '停用' : '启用'}`);
    } catch (e) {
      toast('操作失败：' + e.message);
      b.disabled = false;
    }
  });
  return b;
}

// typePicker is the event-type checkboxes of an endpoint form.
function typePicker(selected) {
  return h('fieldset', { class: 'types', data: { field: 'event_types' } }, h('legend', { text: '订阅事件（都不选：全部）' }),
    TYPES.map((x) => h('label', { class: 'pick' },
      h('input', { type: 'checkbox', value: x, checked: (selected || []).includes(x), data: { role: 'type' } }), ' ', x)));
}

const pickedTypes = (form) => [...form.querySelectorAll('[data-role="type"]:checked')].map((x) => x.value);

// editForm edits every field of an endpoint (PATCH; the payload version is
// fixed when it is made).
function editForm(ep, done) {
  const box = errorBox();
  const form = h('form', { class: 'card form', id: 'endpoint-edit' },
    h('h2', { text: `编辑端点 ${ep.id}` }), box,
    field({ id: 'edit-url', label: 'URL', name: 'url', type: 'url', value: ep.url, required: true, wide: true }),
    field({ id: 'edit-description', label: '说明', name: 'description', value: ep.description || '', wide: true }),
    typePicker(ep.event_types),
    field({ id: 'edit-enabled', label: '启用', name: 'enabled', type: 'checkbox', value: ep.enabled }),
    h('small', { class: 'hint', text: `载荷版本 v${ep.version}（创建时固定；换版本请新建端点）` }),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', text: '保存' }),
      h('button', { type: 'button', text: '取消', on: { click: () => form.remove() } })));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form, box);
    try {
      const saved = await patch(`/webhook-endpoints/${ep.id}`, { url: val(form, 'url'), description: val(form, 'description'),
        event_types: pickedTypes(form), enabled: val(form, 'enabled') });
      form.remove();
      done(saved);
      toast(`端点 ${ep.id} 已保存`);
    } catch (e) {
      showError(form, box, e);
    }
  });
  return form;
}

// showTestResult shows what the endpoint answered to a test event.
function showTestResult(el, ep, r) {
  el.replaceChildren(
    h('h3', { text: `端点 ${ep.id} 的测试事件` }),
    h('p', null, r.ok ? badge('成功', 'ok') : badge('失败', 'warn'),
      ` HTTP ${r.status_code || '—'} · ${r.latency_ms ?? 0} ms · webhook-id `, h('code', { text: r.webhook_id || '' })),
    r.error ? h('p', { class: 'error-text', data: { role: 'test-error' }, title: r.error, text: msg(r.error_message, r.error) }) : '',
    r.response ? h('pre', { class: 'payload', data: { role: 'test-response' }, text: r.response }) : '',
    h('small', { class: 'muted', text: r.ok ? '端点已校验签名并接收。' : '端点需要校验签名后回复 2xx（见 docs/WEBHOOKS.md）。' }),
    h('div', null, h('button', { type: 'button', class: 'small', text: '关闭', on: { click: () => { el.hidden = true; } } })));
  el.hidden = false;
  el.scrollIntoView({ block: 'nearest' });
}

function testButton(ep, result) {
  const b = h('button', { type: 'button', class: 'small', data: { role: 'test' }, text: '发送测试' });
  b.addEventListener('click', async () => {
    b.disabled = true;
    try {
      showTestResult(result, ep, await post(`/webhook-endpoints/${ep.id}/test`));
    } catch (e) {
      toast('测试失败：' + e.message);
    }
    b.disabled = false;
  });
  return b;
}

async function endpoints(onChange) {
  const box = errorBox();
  const secret = h('div', { class: 'secret card', id: 'webhook-secret', role: 'alert', hidden: true });
  const result = h('div', { class: 'card', id: 'endpoint-test-result', role: 'status', hidden: true });
  const editSlot = h('div');
  const rows = new Map();
  let t;
  // draw renders the table again from rows (after an edit, a toggle, a rotation or a delete).
  const draw = () => {
    const next = table([
      { label: 'ID', cls: 'num', render: (e) => String(e.id) },
      { label: 'URL', render: (e) => h('code', { class: 'url', text: e.url }) },
      { label: '说明', render: (e) => e.description || '—' },
      { label: '事件', render: (e) => (e.event_types && e.event_types.length ? e.event_types.map((x) => badge(x, 'tag')) : '全部') },
      { label: '状态', render: (e) => h('span', { data: { role: 'status' } }, endpointStatus(e)) },
      { label: '', cls: 'row-actions', render: actions },
    ], '还没有端点');
    next.add([...rows.values()]);
    if (t) t.el.replaceWith(next.el);
    t = next;
    onChange([...rows.values()]);
  };
  const update = (ep) => { rows.set(ep.id, ep); draw(); };
  function actions(ep) {
    return [
      h('button', { type: 'button', class: 'small', data: { role: 'edit' }, text: '编辑', on: { click: () => {
        editSlot.replaceChildren(editForm(ep, update));
        editSlot.scrollIntoView({ block: 'nearest' });
      } } }), ' ',
      toggleButton(ep, update), ' ', testButton(ep, result), ' ',
      confirmAction({ label: '轮换密钥', question: '新密钥只显示一次；旧密钥继续签名 24 小时。确定？', confirm: '确认轮换', role: 'rotate',
        act: async () => {
          try {
            const r = await post(`/webhook-endpoints/${ep.id}/rotate-secret`);
            showSecret(secret, { title: `端点 ${ep.id} 的新签名密钥只显示这一次，请立即保存到 CRM。`, secret: r.secret, manual: '请手动复制选中的密钥',
              hint: `旧密钥继续签名至 ${fmtTime(r.previous_secret_expires_at)}：在此之前每次请求带两个签名，CRM 换上新密钥即可，不会丢投递。` });
            delete r.secret;
            update(r);
          } catch (e) {
            toast('轮换失败：' + e.message);
          }
        } }), ' ',
      confirmAction({ label: '删除', question: '删除后待发送的投递会失败（历史保留），确定？', confirm: '确认删除', role: 'delete',
        act: async () => {
          try {
            await del(`/webhook-endpoints/${ep.id}`);
            rows.delete(ep.id);
            draw();
            toast(`端点 ${ep.id} 已删除`);
          } catch (e) {
            toast('删除失败：' + e.message);
          }
        } }),
    ];
  }
  draw();
  const form = h('form', { class: 'card form', id: 'endpoint-form', hidden: true },
    h('h2', { text: '新建端点' }), h('div', { class: 'error-slot' }),
    field({ label: 'URL', name: 'url', type: 'url', placeholder: 'https://crm.example.com/hooks/scrm', required: true, wide: true }),
    field({ label: '说明', name: 'description', wide: true }),
    typePicker([]),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', text: '创建' }),
      h('button', { type: 'button', text: '取消', on: { click: () => { form.hidden = true; } } })));
  const formBox = errorBox();
  form.querySelector('.error-slot').replaceWith(formBox);
  onCreate(form, formBox, () => post('/webhook-endpoints', { url: val(form, 'url'), description: val(form, 'description'),
    event_types: pickedTypes(form) }), (ep) => {
    showEndpointSecret(secret, ep);
    delete ep.secret;
    update(ep);
  });
  try {
    const res = await get('/webhook-endpoints');
    for (const ep of res.webhook_endpoints || []) rows.set(ep.id, ep);
    draw();
  } catch (e) {
    showError(null, box, e);
  }
  return h('div', null,
    h('div', { class: 'page-head' }, h('h2', { text: '端点' }),
      h('button', { type: 'button', class: 'primary', id: 'new-endpoint', text: '新建端点', on: { click: () => { form.hidden = false; secret.hidden = true; } } })),
    box, secret, result, form, editSlot, t.el);
}

function showEndpointSecret(el, ep) {
  showSecret(el, { title: `端点 ${ep.id} 的签名密钥只显示这一次，请立即保存到 CRM。`, secret: ep.secret, manual: '请手动复制选中的密钥',
    hint: '用它校验 webhook-signature（见 docs/WEBHOOKS.md）。丢失后只能轮换密钥。' });
}

async function deliveries() {
  const filter = h('form', { class: 'filters', id: 'delivery-filters' },
    field({ label: '状态', name: 'status', type: 'select', value: '', options: STATUS }),
    field({ label: '端点', name: 'endpoint', type: 'select', value: '', options: [['', '全部']] }),
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
      { label: '结果', render: (d) => (d.error ? failure(d.error_message, d.error) : d.last_status_code ? `HTTP ${d.last_status_code}` : '—') },
      { label: '时间', render: (d) => fmtTime(d.finished_at || d.created_at) },
      { label: '', cls: 'row-actions', render: (d) => [detailButton(d), ' ', replayButton(d)] },
    ],
    fetch: async (before) => {
      const res = await get('/webhook-deliveries', { status: val(filter, 'status'), endpoint: val(filter, 'endpoint'), type: val(filter, 'type'), before, limit: 50 });
      return [res.deliveries || [], res.next_before];
    },
  });
  await list.load();
  return { el: h('div', null, h('h2', { text: '投递记录' }), bulkReplay(filter, list), detail, list.nodes),
    setEndpoints: endpointChoices(filter.querySelector('[data-field="endpoint"]')) };
}

// endpointChoices is the deliveries' endpoint filter: the endpoints by URL,
// set again whenever the endpoints table changes (one made, edited or
// deleted on this screen).
function endpointChoices(sel) {
  return (eps) => {
    const keep = sel.value;
    sel.replaceChildren(h('option', { value: '', text: '全部' }), ...eps.map((ep) =>
      h('option', { value: String(ep.id), text: `#${ep.id} ${ep.url}${ep.description ? '（' + ep.description + '）' : ''}` })));
    sel.value = keep;
    if (sel.value !== keep) sel.value = '';
  };
}

// bulkReplay sends again every failed delivery matching the filter's
// endpoint and event type (POST /webhook-deliveries/replay).
function bulkReplay(filter, list) {
  const box = errorBox();
  const result = h('span', { id: 'bulk-replay-result', role: 'status' });
  const action = confirmAction({ label: '重发失败的投递', role: 'bulk-replay', confirm: '确认重发',
    question: '按筛选的端点和事件类型，重发所有失败（failed）的投递（已停用的端点跳过）。确定？',
    act: async (wrap) => {
      clearErrors(filter, box);
      const body = { status: 'failed' };
      if (val(filter, 'endpoint')) body.endpoint = val(filter, 'endpoint');
      if (val(filter, 'type')) body.type = val(filter, 'type');
      try {
        const r = await post('/webhook-deliveries/replay', body);
        result.textContent = `已排队重发 ${r.replayed} 条失败的投递`;
        toast(result.textContent);
        wrap.querySelector('.confirm').hidden = true;
        wrap.querySelector('[data-role="bulk-replay"]').hidden = false;
        await list.load();
      } catch (e) {
        showError(filter, box, e);
      }
    } });
  return h('div', { class: 'bulk-replay', id: 'bulk-replay' }, action, ' ', result, box);
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
      { label: '错误', render: (a) => failure(a.error_message, a.error, '—') },
    ], '还没有尝试');
    t.add(d.attempts || []);
    const payload = typeof d.payload === 'string' ? d.payload : JSON.stringify(d.payload, null, 2);
    el.append(
      h('p', null, badge(d.status, STATUS_KIND[d.status]), ` ${d.event_type} · webhook-id `, h('code', { text: d.webhook_id || '' }),
        d.next_attempt_at ? ` · 下次尝试 ${fmtTime(d.next_attempt_at)}` : ''),
      t.el, h('h4', { text: '请求内容' }), h('pre', { class: 'payload', text: payload || '' }),
      h('button', { type: 'button', class: 'small', text: '关闭', on: { click: () => { el.hidden = true; } } }));
  } catch (e) {
    showError(null, box, e);
  }
  el.scrollIntoView({ block: 'nearest' });
}
