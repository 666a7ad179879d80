
// shush's HTML report: renders the groups in the shush-data element and filters them.
// Every piece of data reaches the page through textContent (or a checked http(s) href):
// nothing from a finding is ever parsed as markup.
(function () {
  'use strict';

  const data = JSON.parse(document.getElementById('shush-data').textContent);
  const KEYS = ['rule', 'confidence', 'status', 'path'];
  const CONFIDENCES = ['high', 'medium', 'low'];
  const $ = (id) => document.getElementById(id);

  /** A new element with a class and text. */
  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  /** Appends the children that are not null; strings become text nodes. */
  function add(parent, ...children) {
    for (const c of children) {
      if (c === null || c === undefined) continue;
      parent.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
    }
    return parent;
  }

  const plural = (n, one, many) => n + ' ' + (n === 1 ? one : many);
  const unique = (xs) => Array.from(new Set(xs));
  const shortId = (id) => (id ? String(id).slice(0, 10) : '');
  const shortDigest = (d) => (d ? String(d).replace(/^(sha256:)?(.{12}).*$/, '$1$2') : '');
  const statusOf = (f) => (typeof f.status === 'string' && f.status ? f.status : 'open');

  /** A link, only to an http(s) URL: never javascript: or data: from the data. */
  function link(url, text) {
    if (typeof url !== 'string' || !/^https?:\/\//i.test(url)) return null;
    const a = el('a', null, text || url);
    a.href = url;
    a.title = url;
    a.rel = 'noopener noreferrer';
    return a;
  }

  /** A URL's host, as a short link text (the link's title has the whole URL). */
  function hostOf(url) {
    try {
      return new URL(url).host;
    } catch (e) {
      return url;
    }
  }

  function list(items) {
    const ul = el('ul');
    for (const t of items) ul.appendChild(el('li', null, t));
    return ul;
  }

  function renderHeader() {
    $('meta').textContent = data.tool + ' ' + data.version + ' · generated ' + data.generated;
    const totals = $('totals');
    const items = [
      ['Findings', data.totals.findings],
      ['Distinct secrets', data.totals.secrets],
      ['Rules', data.totals.rules],
      ['Errors', data.errors.length],
      ['Warnings', data.warnings.length],
    ];
    for (const [name, value] of items) {
      totals.appendChild(add(el('div'), el('dt', null, name), el('dd', null, value)));
    }
  }

  function renderNotices() {
    const box = $('notices');
    if (data.errors.length) {
      const n = el('section', 'notice error');
      n.id = 'incomplete';
      n.setAttribute('role', 'alert');
      add(n, el('strong', null, 'Incomplete scan: ' + plural(data.errors.length, 'error', 'errors') +
        '. Some input was not scanned, so this report may be missing secrets.'), list(data.errors));
      box.appendChild(n);
    }
    if (data.warnings.length) {
      const d = el('details', 'notice warning');
      add(d, el('summary', null, plural(data.warnings.length, 'warning', 'warnings')), list(data.warnings));
      box.appendChild(d);
    }
  }

  const seenText = (s) => (s ? (s.commit ? 'commit ' + shortId(s.commit) + ' · ' : '') + s.date : null);

  function fact(dl, name, value) {
    if (value === null || value === undefined || value === '') return;
    add(dl, el('dt', null, name), add(el('dd'), value));
  }

  function renderRemediation(r) {
    const box = el('div', 'remediation');
    add(box, el('h3', null, 'What to do'), el('p', null, r.summary));
    if (r.grants) add(box, add(el('p'), el('strong', null, 'Grants: '), String(r.grants)));
    const revoke = link(r.revoke_url, 'Revoke or rotate it here');
    if (revoke) add(box, add(el('p'), revoke));
    if (r.command) add(box, add(el('pre'), el('code', null, r.command)));
    return box;
  }

  /** Where a finding came from beyond its path: commit, layer, archive chain. */
  function originOf(f) {
    const s = f.source || {};
    const parts = [];
    if (s.kind === 'git') {
      if (s.commit) parts.push('commit ' + shortId(s.commit));
      else if (s.unreachable) parts.push('dangling blob ' + shortId(s.blob));
      else parts.push('not in a commit (staged)');
      if (s.author_name) parts.push(s.author_name + (s.author_email ? ' <' + s.author_email + '>' : ''));
      if (s.date) parts.push(s.date);
      if (s.summary) parts.push('“' + s.summary + '”');
      if (s.unreachable) parts.push('unreachable from every ref');
    } else if (s.kind === 'archive') {
      parts.push('in archive ' + (s.chain || []).join(' › '));
    } else if (s.kind === 'image') {
      if (s.image) parts.push('image ' + s.image);
      if (s.platform) parts.push(s.platform);
      if (s.layer_index !== null && s.layer_index !== undefined) {
        parts.push('layer ' + s.layer_index + (s.layer_digest ? ' (' + shortDigest(s.layer_digest) + ')' : ''));
      }
      if (s.field) parts.push('field ' + s.field);
      if (s.inner && s.inner.length) parts.push('inside ' + s.inner.join(' › '));
      if (s.created_by) parts.push('created by ' + s.created_by);
      if (s.hidden_by) {
        parts.push('deleted in layer ' + s.hidden_by.layer_index + ' (' + s.hidden_by.how + '), still shipped');
      }
    }
    if (f.decoded && f.decoded.length) parts.push('decoded: ' + f.decoded.join(' › '));
    return parts.join(' · ');
  }

  function renderLocation(f) {
    const li = el('li', 'location');
    add(li, el('code', 'where', f.path + ':' + f.line + ':' + f.column));
    const status = statusOf(f);
    if (status !== 'open') add(li, ' ', el('span', 'badge status', status));
    const origin = originOf(f);
    if (origin) add(li, el('span', 'origin', origin));
    return li;
  }

  /** One secret's block; returns what filtering needs. */
  function renderGroup(g) {
    const node = el('section', 'secret conf-' + g.confidence);
    node.dataset.secretId = g.secret_id;
    node.dataset.rule = g.rule_id;
    const h2 = add(el('h2'), el('code', 'rule', g.rule_id), ' ', el('span', 'desc', g.description));
    const head = add(el('header', 'secret-head'), h2, el('span', 'badge conf-' + g.confidence, g.confidence));
    for (const st of unique(g.locations.map(statusOf))) add(head, el('span', 'badge status', st));
    node.appendChild(head);

    const facts = el('dl', 'facts');
    fact(facts, 'Secret', add(el('span'), el('code', 'masked', g.secret), ' ', el('span', 'muted mono', '#' + g.secret_id)));
    fact(facts, 'First seen', seenText(g.first_seen));
    fact(facts, 'Last seen', seenText(g.last_seen));
    const refs = (g.references || []).map((u) => link(u, hostOf(u))).filter(Boolean);
    if (refs.length) {
      const dd = el('span');
      refs.forEach((a, i) => add(dd, i ? ', ' : null, a));
      fact(facts, 'References', dd);
    }
    node.appendChild(facts);

    const remediation = g.locations.map((f) => f.remediation).find((r) => r && typeof r === 'object');
    if (remediation) node.appendChild(renderRemediation(remediation));

    const details = el('details', 'locations');
    details.open = g.locations.length <= 10;
    const count = el('span', 'location-count');
    const ol = el('ol', 'location-list');
    const items = g.locations.map((f) => ({ f, li: ol.appendChild(renderLocation(f)) }));
    add(details, add(el('summary'), count), ol);
    node.appendChild(details);
    return { g, node, items, count };
  }

  // Filters: the controls, the URL fragment (#rule=…&confidence=…&status=…&path=…), and
  // applying them to the rendered groups.
  const controls = {
    rule: $('filter-rule'),
    confidence: $('filter-confidence'),
    status: $('filter-status'),
    path: $('filter-path'),
  };

  function addOptions(select, values) {
    for (const v of values) {
      const o = el('option', null, v);
      o.value = v;
      select.appendChild(o);
    }
  }

  /** A value named in the URL but absent from the data still gets its option (0 shown). */
  function ensureOption(select, value) {
    if (value && !Array.from(select.options).some((o) => o.value === value)) addOptions(select, [value]);
  }

  function readHash() {
    const params = new URLSearchParams(location.hash.replace(/^#/, ''));
    for (const k of KEYS) {
      const v = params.get(k) || '';
      if (controls[k].tagName === 'SELECT') ensureOption(controls[k], v);
      controls[k].value = v;
    }
  }

  function writeHash() {
    const params = new URLSearchParams();
    for (const k of KEYS) if (controls[k].value) params.set(k, controls[k].value);
    const h = params.toString();
    try {
      history.replaceState(null, '', h ? '#' + h : location.pathname + location.search);
    } catch (e) {
      // Some browsers refuse history changes on file:// pages; the filter still applies.
    }
  }

  function apply(rendered, shown, empty) {
    const rule = controls.rule.value;
    const confidence = controls.confidence.value;
    const status = controls.status.value;
    const path = controls.path.value.trim().toLowerCase();
    let visible = 0;
    for (const r of rendered) {
      const groupOk = (!rule || r.g.rule_id === rule) && (!confidence || r.g.confidence === confidence);
      let n = 0;
      for (const it of r.items) {
        const ok = groupOk && (!status || statusOf(it.f) === status) &&
          (!path || String(it.f.path).toLowerCase().includes(path));
        it.li.hidden = !ok;
        if (ok) n++;
      }
      r.node.hidden = n === 0;
      if (n > 0) visible++;
      const all = plural(r.items.length, 'location', 'locations');
      r.count.textContent = n === r.items.length ? all : n + ' of ' + all + ' match the filters';
    }
    shown.textContent = visible + ' of ' + plural(rendered.length, 'secret', 'secrets') + ' shown';
    empty.hidden = visible > 0;
    empty.textContent = rendered.length ? 'No secret matches these filters.' : 'No secrets found.';
  }

  function main() {
    renderHeader();
    renderNotices();
    const container = $('groups');
    const rendered = data.groups.map(renderGroup);
    for (const r of rendered) container.appendChild(r.node);
    const empty = container.appendChild(el('p', 'empty'));

    addOptions(controls.rule, unique(data.groups.map((g) => g.rule_id)).sort());
    addOptions(controls.confidence, CONFIDENCES.filter((c) => data.groups.some((g) => g.confidence === c)));
    const statuses = data.groups.flatMap((g) => g.locations.map(statusOf));
    addOptions(controls.status, unique(['open'].concat(statuses)).sort());
    $('filters').hidden = false;
    $('filters').addEventListener('submit', (e) => e.preventDefault());

    const update = () => apply(rendered, $('shown'), empty);
    readHash();
    update();
    for (const k of KEYS) {
      controls[k].addEventListener(k === 'path' ? 'input' : 'change', () => {
        writeHash();
        update();
      });
    }
    $('filter-reset').addEventListener('click', () => {
      for (const k of KEYS) controls[k].value = '';
      writeHash();
      update();
    });
    window.addEventListener('hashchange', () => {
      readHash();
      update();
    });
  }

  main();
})();
