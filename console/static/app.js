// app.js: the console's entry point: the router (pages in machines.js,
// execution.js, editor.js and resources.js, built with ui.js), the theme
// and signing in. Every page reads through the
// public Step Functions API (api.js); the only requests that write
// (StartExecution, StopExecution, RedriveExecution, CreateStateMachine,
// UpdateStateMachine) are sent from a button the user clicked.
//
// Addresses (stable, for people and browser tests):
//   /  and /state-machines            the state machines
//   /state-machines/<stateMachineArn> one machine (ARN URL-encoded)
//   /executions/<executionArn>        one execution
//   /editor[?stateMachineArn=<arn>]   write, validate, create or update
//   /activities                       the activities
//   /map-runs/<executionArn>          an execution's Map Runs

import { editorPage } from './editor.js';
import { executionPage } from './execution.js';
import { activitiesPage, mapRunsPage } from './resources.js';
import { machinePage, machinesPage } from './machines.js';
import { credentials, signIn, signOut } from './sigv4.js';
import { a, errorBox, fill, h, leave, mainElement, modal, navigate, newPage, setTitle, showBanner } from './ui.js';

// ---------------------------------------------------------------- router

const routes = [
  [/^\/(state-machines\/?)?$/, machinesPage],
  [/^\/state-machines\/(.+)$/, (m) => machinePage(decodeURIComponent(m[1]))],
  [/^\/executions\/(.+)$/, (m) => executionPage(decodeURIComponent(m[1]))],
  [/^\/editor\/?$/, () => editorPage(new URLSearchParams(location.search).get('stateMachineArn'))],
  [/^\/activities\/?$/, activitiesPage],
  [/^\/map-runs\/(.+)$/, (m) => mapRunsPage(decodeURIComponent(m[1]))],
];

async function render() {
  leave();
  showBanner('');
  const page = newPage();
  for (const n of document.querySelectorAll('header nav a')) {
    n.toggleAttribute('aria-current', location.pathname.startsWith(n.getAttribute('href')));
  }
  for (const [re, show] of routes) {
    const m = re.exec(location.pathname);
    if (m) {
      try {
        await show(m);
      } catch (err) {
        page.appendChild(errorBox(err));
      }
      return;
    }
  }
  setTitle('Not found');
  page.append(h('h1', {}, 'Not found'), h('p', {}, a('/', 'Back to the state machines')));
}

window.addEventListener('stepwell:navigate', () => {
  render();
  mainElement.focus({ preventScroll: true });
});

document.addEventListener('click', (e) => {
  const link = e.target.closest && e.target.closest('a[data-link]');
  if (!link || e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
  e.preventDefault();
  navigate(link.getAttribute('href'));
});
window.addEventListener('popstate', render);

// ---------------------------------------------------------------- theme, sign-in

const themeButton = document.getElementById('theme');
function applyTheme(t) {
  document.documentElement.dataset.theme = t;
  themeButton.textContent = t === 'dark' ? '☀ Light' : '☾ Dark';
}
applyTheme(localStorage.getItem('stepwell.theme') || (matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light'));
themeButton.addEventListener('click', () => {
  const t = document.documentElement.dataset.theme === 'dark' ? 'light' : 'dark';
  localStorage.setItem('stepwell.theme', t);
  applyTheme(t);
});

const signinButton = document.getElementById('signin');
function updateSignin() {
  const c = credentials();
  signinButton.textContent = c ? `Signed in: ${c.accessKeyId}` : 'Sign in';
}
updateSignin();
signinButton.addEventListener('click', () => modal('Sign in', (form, close) => {
  const c = credentials() || {};
  const field = (label, name, attrs = {}) => h('label', {}, label, h('input', { name, value: c[name] || '', autocomplete: 'off', spellcheck: 'false', ...attrs }));
  fill(form, form.firstChild,
    h('p', { class: 'muted' }, 'When the server verifies signatures, the console signs every request with SigV4 like an SDK. The key stays in this tab (sessionStorage) and is only used to sign.'),
    !window.isSecureContext && h('p', { class: 'error' }, 'Signing needs a secure context (HTTPS or a loopback address).'),
    field('Access key ID', 'accessKeyId', { required: true }),
    field('Secret access key', 'secretAccessKey', { type: 'password', required: true }),
    field('Session token (optional)', 'sessionToken'),
    field('Region', 'region', { value: c.region || 'us-east-1' }),
    h('div', { class: 'actions' },
      h('button', { type: 'button', class: 'ghost', id: 'signout', onclick: () => { signOut(); updateSignin(); close(); render(); } }, 'Sign out'),
      h('button', { type: 'button', class: 'ghost', onclick: () => close() }, 'Cancel'),
      h('button', {
        type: 'button', class: 'primary', id: 'signin-submit', onclick: () => {
          const v = Object.fromEntries(new FormData(form));
          if (!v.accessKeyId || !v.secretAccessKey) return;
          signIn({ accessKeyId: v.accessKeyId.trim(), secretAccessKey: v.secretAccessKey.trim(), sessionToken: v.sessionToken.trim() || undefined, region: v.region.trim() || 'us-east-1' });
          updateSignin();
          close();
          render();
        },
      }, 'Sign in')));
}));

function whenDagre() {
  if (window.dagre) return Promise.resolve();
  return new Promise((resolve) => window.addEventListener('load', resolve, { once: true }));
}

whenDagre().then(render);
