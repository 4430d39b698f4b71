// Tokens: list, create (the secret shown once), revoke with a confirm.

import { get, post, del } from './api.js';
import { h, field, val, errorBox, showError, onCreate, table, badge, fmtTime, toast, showSecret } from './dom.js';
import { confirmAction } from './confirm.js';
import { staffPicker } from './staff.js';

const ROLES = [['admin', '管理员 admin'], ['staff', '员工 staff'], ['viewer', '只读 viewer'], ['crm', 'CRM crm']];

function tokenStatus(k) {
  if (k.revoked_at) return badge('已吊销 ' + fmtTime(k.revoked_at), 'warn');
  if (k.expires_at && new Date(k.expires_at) <= new Date()) return badge('已过期', 'warn');
  return badge('有效', 'ok');
}

function revokeCell(k) {
  if (k.revoked_at) return '';
  return confirmAction({ label: '吊销', question: '吊销后立即失效，确定？', confirm: '确认吊销', role: 'revoke', cls: 'revoke', act: async (wrap) => {
    try {
      await del(`/tokens/${k.id}`);
      k.revoked_at = new Date().toISOString();
      wrap.closest('tr').querySelector('[data-role="status"]').replaceChildren(tokenStatus(k));
      wrap.replaceChildren();
      toast(`令牌 ${k.name} 已吊销`);
    } catch (e) {
      toast('吊销失败：' + e.message);
    }
  } });
}

export async function page() {
  const section = h('section', { class: 'page', id: 'tokens' });
  const box = errorBox();
  const t = table([
    { label: 'ID', cls: 'num', render: (k) => String(k.id) },
    { label: '名称', render: (k) => k.name },
    { label: '角色', render: (k) => badge(k.role, 'tag') },
    { label: '员工 userid', render: (k) => k.userid || '—' },
    { label: '前缀', render: (k) => h('code', { text: k.prefix || '' }) },
    { label: '创建时间', render: (k) => fmtTime(k.created_at) },
    { label: '最近使用', render: (k) => fmtTime(k.last_used_at) || '从未' },
    { label: '到期', render: (k) => fmtTime(k.expires_at) || '不过期' },
    { label: '状态', render: (k) => h('span', { data: { role: 'status' } }, tokenStatus(k)) },
    { label: '', cls: 'row-actions', render: revokeCell },
  ], '还没有令牌');
  const secret = h('div', { class: 'secret card', id: 'token-secret', role: 'alert', hidden: true });
  const form = h('form', { class: 'card form', id: 'token-form', hidden: true },
    h('h2', { text: '新建令牌' }), h('div', { class: 'error-slot' }),
    field({ label: '名称', name: 'name', required: true, placeholder: '如：CRM 同步' }),
    field({ label: '角色', name: 'role', type: 'select', value: 'crm', options: ROLES }),
    field({ label: '员工 userid（仅员工角色）', name: 'userid', hint: '员工令牌只看到自己名下的线索', attrs: { list: staffPicker() } }),
    field({ label: '到期时间（可选）', name: 'expires_at', type: 'datetime-local' }),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', id: 'create-token', text: '创建' }),
      h('button', { type: 'button', text: '取消', on: { click: () => { form.hidden = true; } } })));
  const formBox = errorBox();
  form.querySelector('.error-slot').replaceWith(formBox);
  onCreate(form, formBox, () => {
    const body = { name: val(form, 'name'), role: val(form, 'role') };
    if (val(form, 'userid')) body.userid = val(form, 'userid');
    const exp = val(form, 'expires_at');
    if (exp) body.expires_at = Number.isNaN(new Date(exp).getTime()) ? exp : new Date(exp).toISOString();
    return post('/tokens', body);
  }, (k) => {
    t.add([k]);
    showTokenSecret(secret, k);
  });
  try {
    const res = await get('/tokens');
    t.add(res.tokens || []);
  } catch (e) {
    showError(null, box, e);
  }
  section.append(
    h('div', { class: 'page-head' }, h('h1', { text: '访问令牌' }),
      h('button', { type: 'button', class: 'primary', id: 'new-token', text: '新建令牌', on: { click: () => { form.hidden = false; secret.hidden = true; } } })),
    box, secret, form, t.el);
  return section;
}

function showTokenSecret(el, k) {
  showSecret(el, { title: `令牌「${k.name}」的密钥只显示这一次，请立即复制保存。`, secret: k.secret, manual: '请手动复制选中的令牌',
    hint: '请求时放在 Authorization: Bearer <令牌> 中。丢失后只能吊销并新建。' });
}
