// The bench page's script: the kind of small, dependency-free module a site ships (pushed from
// spry's cache). It is never run by the benchmark, only transferred.
'use strict';

const STORAGE_KEY = 'spry-demo:preferences';
const REFRESH_INTERVAL_MS = 30_000;
const numberFormat = new Intl.NumberFormat('en-US');
const timeFormat = new Intl.DateTimeFormat('en-US', { hour: '2-digit', minute: '2-digit', second: '2-digit' });

/** Reads saved preferences, tolerating anything a previous version may have stored. */
function loadPreferences() {
  try {
    const saved = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? '{}');
    return {
      compact: saved.compact === true,
      sortBy: typeof saved.sortBy === 'string' ? saved.sortBy : 'name',
      descending: saved.descending === true,
    };
  } catch {
    return { compact: false, sortBy: 'name', descending: false };
  }
}

function savePreferences(preferences) {
  try {
    localStorage.setItem(STORAGE_KEY, JSON.stringify(preferences));
  } catch {
    // private browsing or a full quota: preferences just do not persist
  }
}

/** The navigation menu on small screens. */
function setUpNavigation(root) {
  const toggle = root.querySelector('.nav-toggle');
  const nav = root.querySelector('.nav');
  if (toggle === null || nav === null) return;
  const close = () => {
    nav.classList.remove('open');
    toggle.setAttribute('aria-expanded', 'false');
  };
  toggle.addEventListener('click', () => {
    const open = nav.classList.toggle('open');
    toggle.setAttribute('aria-expanded', String(open));
    if (open) nav.querySelector('a')?.focus();
  });
  root.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && nav.classList.contains('open')) {
      close();
      toggle.focus();
    }
  });
  root.addEventListener('click', (event) => {
    if (!nav.contains(event.target) && event.target !== toggle) close();
  });
}

/** A sortable table: clicking a header sorts by that column, clicking again reverses. */
class SortableTable {
  constructor(table, preferences, onChange) {
    this.table = table;
    this.body = table.tBodies[0];
    this.preferences = preferences;
    this.onChange = onChange;
    this.headers = [...table.tHead.rows[0].cells];
    for (const header of this.headers) {
      const key = header.dataset.key;
      if (key === undefined) continue;
      header.tabIndex = 0;
      header.setAttribute('role', 'button');
      header.addEventListener('click', () => this.sortBy(key));
      header.addEventListener('keydown', (event) => {
        if (event.key === 'Enter' || event.key === ' ') {
          event.preventDefault();
          this.sortBy(key);
        }
      });
    }
  }

  sortBy(key) {
    const preferences = this.preferences;
    preferences.descending = preferences.sortBy === key ? !preferences.descending : false;
    preferences.sortBy = key;
    this.render();
    this.onChange(preferences);
  }

  render(rows = this.rows ?? []) {
    this.rows = rows;
    const { sortBy, descending } = this.preferences;
    const sorted = [...rows].sort((a, b) => {
      const x = a[sortBy];
      const y = b[sortBy];
      const order = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
      return descending ? -order : order;
    });
    const fragment = document.createDocumentFragment();
    for (const row of sorted) fragment.append(this.renderRow(row));
    this.body.replaceChildren(fragment);
    for (const header of this.headers) {
      const active = header.dataset.key === sortBy;
      header.setAttribute('aria-sort', active ? (descending ? 'descending' : 'ascending') : 'none');
    }
  }

  renderRow(row) {
    const tr = document.createElement('tr');
    tr.append(
      cell(row.name),
      cell(numberFormat.format(row.requests), 'number'),
      cell(`${row.p50.toFixed(1)} ms`, 'number'),
      cell(`${row.p99.toFixed(1)} ms`, 'number'),
      badgeCell(row.status),
    );
    return tr;
  }
}

function cell(text, className) {
  const td = document.createElement('td');
  td.textContent = text;
  if (className !== undefined) td.className = className;
  return td;
}

function badgeCell(status) {
  const td = document.createElement('td');
  const badge = document.createElement('span');
  badge.className = status === 'ok' ? 'badge' : status === 'degraded' ? 'badge warn' : 'badge bad';
  badge.textContent = status;
  td.append(badge);
  return td;
}

/** Fetches the latest figures, with a timeout and one retry after a short pause. */
async function fetchFigures(url, { signal } = {}) {
  for (let attempt = 0; attempt < 2; attempt++) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), 5_000);
    signal?.addEventListener('abort', () => controller.abort(), { once: true });
    try {
      const response = await fetch(url, { signal: controller.signal, headers: { accept: 'application/json' } });
      if (!response.ok) throw new Error(`${url}: ${response.status}`);
      return await response.json();
    } catch (error) {
      if (signal?.aborted || attempt === 1) throw error;
      await new Promise((resolve) => setTimeout(resolve, 500));
    } finally {
      clearTimeout(timer);
    }
  }
  return [];
}

function setUpDashboard(root, preferences) {
  const table = root.querySelector('table.figures');
  const updated = root.querySelector('[data-updated]');
  const compact = root.querySelector('#compact');
  if (table === null) return;
  const sortable = new SortableTable(table, preferences, savePreferences);
  document.body.classList.toggle('compact', preferences.compact);
  compact?.addEventListener('change', () => {
    preferences.compact = compact.checked;
    document.body.classList.toggle('compact', preferences.compact);
    savePreferences(preferences);
  });
  let inFlight = null;
  const refresh = async () => {
    inFlight?.abort();
    inFlight = new AbortController();
    try {
      const rows = await fetchFigures(table.dataset.source ?? '/api/figures', { signal: inFlight.signal });
      sortable.render(rows);
      if (updated !== null) updated.textContent = timeFormat.format(new Date());
    } catch (error) {
      if (error.name !== 'AbortError') console.warn('figures:', error);
    }
  };
  void refresh();
  let timer = setInterval(refresh, REFRESH_INTERVAL_MS);
  document.addEventListener('visibilitychange', () => {
    clearInterval(timer);
    if (document.visibilityState === 'visible') {
      void refresh();
      timer = setInterval(refresh, REFRESH_INTERVAL_MS);
    }
  });
}

document.addEventListener('DOMContentLoaded', () => {
  const preferences = loadPreferences();
  setUpNavigation(document);
  setUpDashboard(document, preferences);
});
