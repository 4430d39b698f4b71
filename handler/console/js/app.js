// The console shell: sign-in, the role's navigation, and the hash router.

import { session, detectRole, setUnauthenticatedHandler, get } from './api.js';
import { h, clear, field, errorBox, showError } from './dom.js';
import * as channels from './channels.js';
import * as live from './livecodes.js';
import * as leads from './leads.js';
import * as contacts from './contacts.js';
import * as hooks from './webhooks.js';
import * as tokens from './tokens.js';
import * as events from './events.js';
import * as jobs from './jobs.js';
import * as rules from './rules.js';
import * as scoring from './scoring.js';
import * as print from './print.js';

// What each role may do in the console; the API enforces the same.
const CAN = {
  admin: ['codes', 'createCode', 'editCode', 'deleteCode', 'contacts', 'leads', 'stage', 'funnel', 'rules', 'editRules', 'scoring',
    'editScoring', 'webhooks', 'tokens', 'events', 'jobs'],
  staff: ['codes', 'createCode', 'contacts', 'leads'],
  viewer: ['codes', 'contacts', 'leads', 'funnel', 'rules', 'scoring'],
  crm: [],
};

const ROLE_NAMES = { admin: '管理员 admin', staff: '员工 staff', viewer: '只读 viewer', crm: 'CRM' };

const NAV = [
  ['#/channels', '渠道活码', 'codes'],
  ['#/groups', '群活码', 'codes'],
  ['#/stores', '门店活码', 'codes'],
  ['#/contacts', '客户', 'contacts'],
  ['#/leads', '线索', 'leads'],
  ['#/funnel', '漏斗', 'funnel'],
  ['#/rules', '标签规则', 'rules'],
  ['#/scoring', '评分', 'scoring'],
  ['#/webhooks', 'Webhooks', 'webhooks'],
  ['#/tokens', '令牌', 'tokens'],
  ['#/events', '事件', 'events'],
  ['#/jobs', '任务', 'jobs'],
];

// Routes: a pattern over the hash path and the screen it shows.
const ROUTES = [
  [/^\/channels$/, 'codes', channels.listPage],
  [/^\/channels\/new$/, 'createCode', channels.formPage],
  [/^\/channels\/(\d+)$/, 'codes', channels.formPage],
  [/^\/groups$/, 'codes', live.groupsPage],
  [/^\/groups\/new$/, 'createCode', live.groupFormPage],
  [/^\/groups\/(\d+)$/, 'editCode', live.groupFormPage],
  [/^\/stores$/, 'codes', live.storesPage],
  [/^\/store-codes\/new$/, 'createCode', live.storeCodeFormPage],
  [/^\/store-codes\/(\d+)$/, 'editCode', live.storeCodeFormPage],
  [/^\/stores\/new$/, 'createCode', live.storeFormPage],
  [/^\/stores\/(\d+)$/, 'editCode', live.storeFormPage],
  [/^\/contacts$/, 'contacts', contacts.listPage],
  [/^\/contacts\/(\d+)$/, 'contacts', contacts.detailPage],
  [/^\/leads$/, 'leads', leads.listPage],
  [/^\/leads\/(\d+)$/, 'leads', leads.detailPage],
  [/^\/funnel$/, 'funnel', leads.funnelPage],
  [/^\/rules$/, 'rules', rules.listPage],
  [/^\/rules\/new$/, 'editRules', rules.formPage],
  [/^\/rules\/(\d+)$/, 'editRules', rules.formPage],
  [/^\/scoring$/, 'scoring', scoring.page],
  [/^\/print\/(channel-codes|group-codes|store-codes)\/(\d+)$/, 'codes', print.page],
  [/^\/webhooks$/, 'webhooks', hooks.page],
  [/^\/tokens$/, 'tokens', tokens.page],
  [/^\/events$/, 'events', events.page],
  [/^\/jobs$/, 'jobs', jobs.page],
];

const state = { role: '' };
const main = document.getElementById('main');
let renderSeq = 0;

function can(what) {
  return (CAN[state.role] || []).includes(what);
}

function signOut(message) {
  renderSeq++; // a screen still loading must not draw over the sign-in
  session.clear();
  state.role = '';
  document.getElementById('nav').hidden = true;
  document.getElementById('who').hidden = true;
  signInPage(message);
}

function signInPage(message) {
  const box = errorBox();
  const form = h('form', { class: 'card sign-in', id: 'sign-in', on: { submit: onSubmit } },
    h('h1', { text: '登录控制台' }),
    h('p', { class: 'muted' }, '使用管理员发放的 API 令牌登录（', h('code', { text: 'gateway token create --role …' }), '）。令牌只保存在本标签页，关闭即失效。'),
    box,
    field({ label: 'API 令牌', name: 'token', type: 'password', required: true, attrs: { autocomplete: 'current-password' } }),
    field({ label: '企业 CorpID（配置了多个企业时填写）', name: 'corp', placeholder: '留空：唯一的企业' }),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', text: '登录' })));
  if (message) showError(form, box, { message });
  clear(main).append(form);
  form.querySelector('input').focus();

  async function onSubmit(ev) {
    ev.preventDefault();
    const token = form.elements.token.value.trim();
    const corp = form.elements.corp.value.trim();
    const btn = form.querySelector('button[type=submit]');
    btn.disabled = true;
    try {
      session.save(token, corp);
      const role = await detectRole(token);
      if (role === 'crm') {
        session.clear();
        showError(form, box, { message: '此令牌的角色是 crm（供 CRM 回调使用），不能登录控制台。', field: 'token' });
        return;
      }
      // The corp is checked now, not on every screen after: with several
      // corps configured the API needs one, and it must be one of them.
      await get('/channel-codes', { limit: 1 });
      state.role = role;
      showShell();
      const want = location.hash && location.hash !== '#/' ? location.hash : defaultRoute();
      if (location.hash === want) route(); else location.hash = want;
    } catch (e) {
      session.clear();
      showError(form, box, e.status === 401 ? { message: '令牌无效或已吊销。', field: 'token' } : e);
    } finally {
      btn.disabled = false;
    }
  }
}

function defaultRoute() {
  return '#/channels';
}

function showShell() {
  const nav = document.getElementById('nav');
  clear(nav).append(...NAV.filter(([, , need]) => can(need)).map(([href, label]) => h('a', { href, text: label })));
  nav.hidden = false;
  document.getElementById('who-role').textContent = ROLE_NAMES[state.role] || state.role;
  document.getElementById('who').hidden = false;
  document.body.dataset.role = state.role;
  markNav();
}

function markNav() {
  const path = (location.hash || '#/').split('?')[0];
  for (const a of document.querySelectorAll('#nav a')) {
    const here = path === a.getAttribute('href') || path.startsWith(a.getAttribute('href') + '/') ||
      (a.getAttribute('href') === '#/stores' && path.startsWith('#/store-codes'));
    if (here) {
      a.setAttribute('aria-current', 'page');
      a.scrollIntoView({ block: 'nearest', inline: 'nearest' }); // phones: the nav scrolls sideways
    } else {
      a.removeAttribute('aria-current');
    }
  }
}

async function route() {
  if (!state.role) return;
  const full = (location.hash || '#/').slice(1);
  const [path, qs] = full.split('?');
  markNav();
  const seq = ++renderSeq;
  for (const [re, need, render] of ROUTES) {
    const m = path.match(re);
    if (!m) continue;
    if (!can(need)) break;
    const ctx = { can, role: state.role, params: m.slice(1), query: new URLSearchParams(qs || ''), go: (hash) => { location.hash = hash; } };
    clear(main).append(h('p', { class: 'muted loading', text: '加载中…' }));
    try {
      const node = await render(ctx);
      if (seq === renderSeq) clear(main).append(node);
    } catch (e) {
      if (seq !== renderSeq || e.status === 401) return;
      const box = errorBox();
      showError(null, box, e);
      clear(main).append(h('section', { class: 'page' }, box));
    }
    window.scrollTo(0, 0);
    return;
  }
  location.hash = defaultRoute();
}

setUnauthenticatedHandler(() => signOut('登录已失效，请重新输入令牌。'));
document.getElementById('sign-out').addEventListener('click', () => signOut());
window.addEventListener('hashchange', route);

(async function start() {
  const token = session.token();
  if (!token) return signInPage();
  try {
    state.role = await detectRole(token);
    if (state.role === 'crm') return signOut();
  } catch (e) {
    return signOut(e.status === 401 ? '登录已失效，请重新输入令牌。' : e.message);
  }
  showShell();
  route();
})();
