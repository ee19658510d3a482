/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tcpstate's HTML report (src/report/html.c writes the data this reads; docs/views.md).
 * The table's rows are parsed once; a connection's record and segment rows are parsed
 * only when it is opened (report.html#conn=ID), so 100,000 connections load quickly.
 * Test hooks: tr[data-conn-id], #ladder [data-frame] (one per segment arrow),
 * #ladder [data-state] (one per state band).
 */
'use strict';
(function () {
  const NS = 'http://www.w3.org/2000/svg';
  const meta = JSON.parse(document.getElementById('tcpst-meta').textContent);
  const rows = JSON.parse(document.getElementById('tcpst-table').textContent);
  const STATES = meta.states;
  const ANOM = meta.anomalies;
  const SEV = ['', 'info', 'warning', 'error'];
  const PAGE = 500;
  // Row fields (html.c w_table_row).
  const F = { id: 0, ca: 1, cp: 2, sa: 3, sp: 4, cs: 5, ss: 6, t: 7, dur: 8, pk: 9, by: 10,
              sev: 11, an: 12, zc: 13, fl: 14 };
  // Segment flags (tcpst flags bits) and row marks (segrows.h).
  const FIN = 1, SYN = 2, RST = 4, PSH = 8, ACK = 16, URG = 32, ECE = 64, CWR = 128;
  const M_RETR = 1, M_KEEP = 2, M_DUP = 4, M_ZWIN = 8, M_FIND = 16;
  const STATE_COLOUR = {
    CLOSED: '#c9ced6', LISTEN: '#d9c9f0', SYN_SENT: '#ffe08a', SYN_RECEIVED: '#ffd36b',
    ESTABLISHED: '#8fd19e', FIN_WAIT_1: '#9cc7f0', FIN_WAIT_2: '#78aee6', CLOSE_WAIT: '#f4a09a',
    CLOSING: '#c7a4e8', LAST_ACK: '#f0b27a', TIME_WAIT: '#b8d8e8', UNKNOWN: '#e6e6e6'
  };

  function h(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    for (const k in attrs || {}) {
      if (attrs[k] === null || attrs[k] === undefined || attrs[k] === false) continue;
      if (k === 'text') e.textContent = attrs[k];
      else if (k.startsWith('on')) e.addEventListener(k.slice(2), attrs[k]);
      else e.setAttribute(k, attrs[k]);
    }
    for (const k of kids) if (k !== null && k !== undefined) e.append(k);
    return e;
  }
  function s(tag, attrs, text) {
    const e = document.createElementNS(NS, tag);
    for (const k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  const fmtInt = (n) => Number(n).toLocaleString('en-US');
  function fmtBytes(n) {
    if (n >= 1e9) return (n / 1e9).toFixed(1) + ' GB';
    if (n >= 1e6) return (n / 1e6).toFixed(1) + ' MB';
    if (n >= 1e3) return (n / 1e3).toFixed(1) + ' kB';
    return n + ' B';
  }
  function fmtSecs(sec) {
    if (sec === null || sec === undefined) return '-';
    if (sec >= 100) return sec.toFixed(0) + ' s';
    if (sec >= 1) return sec.toFixed(3) + ' s';
    return (sec * 1000).toFixed(3) + ' ms';
  }
  function fmtTime(sec) {
    if (sec === null || sec === undefined) return '-';
    const d = new Date(sec * 1000);
    const us = Math.round((sec - Math.floor(sec)) * 1e6);
    return d.toISOString().slice(0, 19).replace('T', ' ') + '.' + String(us).padStart(6, '0') + ' UTC';
  }
  function flagText(f) {
    let t = '';
    if (f & SYN) t += 'S';
    if (f & FIN) t += 'F';
    if (f & RST) t += 'R';
    if (f & PSH) t += 'P';
    if (f & URG) t += 'U';
    if (f & ECE) t += 'E';
    if (f & CWR) t += 'W';
    if (f & ACK) t += '.';
    return t || 'none';
  }
  const endpoint = (a, p) => (a.indexOf(':') >= 0 ? '[' + a + ']:' + p : a + ':' + p);
  function stateChip(name) {
    return h('span', { class: 'state', style: 'background:' + (STATE_COLOUR[name] || '#eee'),
                       text: name });
  }

  /* ---- summary ---- */

  function kv(table, k, v) {
    table.append(h('tr', null, h('td', { class: 'muted', text: k }), h('td', null, v)));
  }
  function summary() {
    const sm = meta.summary, st = meta.stats, cap = sm.capture || {}, v = meta.verdict || {};
    const cards = h('div', { class: 'cards', id: 'summary' });
    // Verdict.
    const vc = h('div', { class: 'card', id: 'verdict' }, h('h3', { text: 'Verdict' }));
    const res = v.result || 'pass';
    vc.append(h('p', null, h('span', { class: 'verdict ' + (res === 'fail' ? 'fail' : 'pass'),
                                        text: res.toUpperCase() })));
    const rt = h('table');
    for (const r of v.rules || []) {
      const who = (r.offenders || []).slice(0, 8).map((o) => h('a', { href: '#conn=' + o.id,
                                                                   text: '#' + o.id + ' ' }));
      rt.append(h('tr', null, h('td', null, h('code', { text: r.rule })),
                  h('td', { class: r.violated ? 'sev-error' : 'muted',
                            text: r.violated ? 'violated' : 'passed' }),
                  h('td', { class: 'n', text: fmtInt(r.matches || 0) + ' in ' +
                            fmtInt(r.connections || 0) }),
                  h('td', null, ...who)));
    }
    if (!(v.rules || []).length) rt.append(h('tr', null, h('td', { class: 'muted', text: 'no rules' })));
    vc.append(rt);
    cards.append(vc);
    // Capture facts.
    const cc = h('div', { class: 'card', id: 'capture' }, h('h3', { text: 'Capture' }));
    const ct = h('table');
    for (const i of meta.inputs || [])
      kv(ct, 'input', h('span', { class: 'mono', text: i.name + ' (' + i.format + ', ' +
                                  i.link_type + ', ' + fmtInt(i.packets) + ' packets)' +
                                  (i.truncated ? ' truncated' : '') +
                                  (i.error ? ' error: ' + i.error : '') }));
    kv(ct, 'first packet', fmtTime(st.first_ts));
    kv(ct, 'last packet', fmtTime(st.last_ts));
    if (st.first_ts !== null && st.last_ts !== null) kv(ct, 'span', fmtSecs(st.last_ts - st.first_ts));
    kv(ct, 'end', fmtTime(cap.end) + ' (' + (cap.end_source || '-') + ')');
    kv(ct, 'drops', cap.packets_dropped === null || cap.packets_dropped === undefined
                        ? 'unknown' : fmtInt(cap.packets_dropped) + ' (' + cap.drops_source + ')');
    kv(ct, 'complete', cap.complete ? 'yes' : 'no' + (cap.incomplete && cap.incomplete.length
                                                       ? ': ' + cap.incomplete.join(', ') : ''));
    kv(ct, 'packets', fmtInt(st.packets) + ' (' + fmtInt(st.tcp_segments) + ' TCP)');
    kv(ct, 'connections', fmtInt(st.connections) + ' (' + fmtInt(meta.listed) + ' listed)');
    if (st.stop) kv(ct, 'stopped by', st.stop);
    cc.append(ct);
    cards.append(cc);
    // Final state pairs.
    const fc = h('div', { class: 'card', id: 'final-states' },
                 h('h3', { text: 'Connections by final state (client/server)' }));
    const ft = h('table');
    const pairs = Object.entries(sm.final_states || {}).sort((a, b) => b[1] - a[1]);
    for (const [pair, n] of pairs) {
      const [a, b] = pair.split('/');
      ft.append(h('tr', null, h('td', null, stateChip(a), ' ', stateChip(b)),
                  h('td', { class: 'n' }, h('a', { href: '#', onclick: (e) => {
                    e.preventDefault(); setFilter({ pair: pair }); }, text: fmtInt(n) }))));
    }
    if (!pairs.length) ft.append(h('tr', null, h('td', { class: 'muted', text: 'none' })));
    fc.append(ft);
    cards.append(fc);
    // Anomalies.
    const ac = h('div', { class: 'card', id: 'anomalies' }, h('h3', { text: 'Anomalies' }));
    const at = h('table');
    const bysev = sm.connections_by_severity || {};
    at.append(h('tr', null, h('td', { class: 'muted', text: 'connections' }),
                h('td', null, h('span', { class: 'sev-error', text: fmtInt(bysev.error || 0) + ' error' }),
                  ', ', h('span', { class: 'sev-warning', text: fmtInt(bysev.warning || 0) + ' warning' }),
                  ', ', h('span', { class: 'sev-info', text: fmtInt(bysev.info || 0) + ' info' }))));
    const sevOf = {};
    ANOM.forEach((a) => { sevOf[a.id] = a.severity; });
    const order = { error: 0, warning: 1, info: 2 };
    const types = Object.entries(sm.anomalies || {})
      .sort((a, b) => order[sevOf[a[0]]] - order[sevOf[b[0]]] || b[1] - a[1]);
    for (const [id, n] of types) {
      at.append(h('tr', null,
                  h('td', null, h('a', { href: '#', onclick: (e) => { e.preventDefault();
                                                                   setFilter({ anomaly: id }); },
                                         text: id })),
                  h('td', { class: 'sev-' + sevOf[id], text: sevOf[id] }),
                  h('td', { class: 'n', text: fmtInt(n) })));
    }
    if (!types.length) at.append(h('tr', null, h('td', { class: 'muted', text: 'none' })));
    const capf = [];
    for (const k of ['syn_flood_or_scan', 'rst_storm']) if ((cap[k] || []).length) capf.push(k);
    if (capf.length) at.append(h('tr', null, h('td', { class: 'muted', text: 'capture-wide' }),
                                 h('td', { text: capf.join(', ') })));
    ac.append(at);
    cards.append(ac);
    return cards;
  }

  /* ---- connections table ---- */

  const COLS = [
    { key: F.id, label: '#', num: true },
    { key: F.ca, label: 'client', addr: true },
    { key: F.sa, label: 'server', addr: true },
    { key: F.cs, label: 'client state', state: true },
    { key: F.ss, label: 'server state', state: true },
    { key: F.t, label: 'start', num: true },
    { key: F.dur, label: 'duration', num: true },
    { key: F.pk, label: 'packets', num: true },
    { key: F.by, label: 'bytes', num: true },
    { key: F.zc, label: 'conn_state' },
    { key: F.sev, label: 'anomalies', num: true }
  ];
  const view = { sort: F.id, dir: 1, page: 0, list: rows, filter: {} };
  let firstUs = rows.length ? rows[0][F.t] : 0; // the table's times are relative to this
  for (const r of rows) if (r[F.t] < firstUs) firstUs = r[F.t];
  const ui = {};

  function rowText(r) {
    return ['#' + r[F.id], endpoint(r[F.ca], r[F.cp]), endpoint(r[F.sa], r[F.sp]),
            STATES[r[F.cs]], STATES[r[F.ss]], r[F.zc]]
      .concat(r[F.an].map((a) => ANOM[a].id)).join(' ').toLowerCase();
  }
  function matches(r, f) {
    if (f.state !== undefined && f.state !== '' && STATES[r[F.cs]] !== f.state &&
        STATES[r[F.ss]] !== f.state) return false;
    if (f.pair && STATES[r[F.cs]] + '/' + STATES[r[F.ss]] !== f.pair) return false;
    if (f.anomaly) {
      if (f.anomaly === '*') { if (!r[F.an].length) return false; }
      else if (!r[F.an].some((a) => ANOM[a].id === f.anomaly)) return false;
    }
    if (f.sev && r[F.sev] < f.sev) return false;
    if (f.addr && r[F.ca].indexOf(f.addr) < 0 && r[F.sa].indexOf(f.addr) < 0) return false;
    if (f.port && String(r[F.cp]) !== f.port && String(r[F.sp]) !== f.port) return false;
    if (f.text && rowText(r).indexOf(f.text) < 0) return false;
    return true;
  }
  function apply() {
    const f = view.filter;
    const any = Object.values(f).some((v) => v !== '' && v !== undefined && v !== 0);
    let list = any ? rows.filter((r) => matches(r, f)) : rows.slice();
    const k = view.sort, d = view.dir;
    list.sort((a, b) => {
      let x = a[k], y = b[k];
      if (k === F.cs || k === F.ss) { x = STATES[x]; y = STATES[y]; }
      if (k === F.ca || k === F.sa) { x = endpoint(a[k], a[k + 1]); y = endpoint(b[k], b[k + 1]); }
      return (x < y ? -1 : x > y ? 1 : 0) * d || a[F.id] - b[F.id];
    });
    view.list = list;
    view.page = 0;
    draw();
  }
  function setFilter(f) {
    view.filter = Object.assign({ state: '', pair: '', anomaly: '', sev: 0, addr: '', port: '', text: '' }, f);
    ui.state.value = view.filter.state;
    ui.anomaly.value = view.filter.anomaly;
    ui.sev.value = String(view.filter.sev);
    ui.addr.value = view.filter.addr;
    ui.port.value = view.filter.port;
    ui.text.value = view.filter.text;
    ui.pair.textContent = view.filter.pair ? 'final states ' + view.filter.pair + ' ' : '';
    ui.pair.hidden = !view.filter.pair;
    apply();
    ui.table.scrollIntoView();
  }
  function cell(r, c) {
    const v = r[c.key];
    if (c.addr) return h('td', { class: 'addr', text: endpoint(v, r[c.key + 1]) });
    if (c.state) return h('td', null, stateChip(STATES[v]));
    if (c.key === F.id) return h('td', { class: 'num' }, h('a', { href: '#conn=' + v, text: String(v) }));
    if (c.key === F.t) return h('td', { class: 'num', text: ((v - firstUs) / 1e6).toFixed(6) });
    if (c.key === F.dur) return h('td', { class: 'num', text: (v / 1e6).toFixed(6) });
    if (c.key === F.by) return h('td', { class: 'num', text: fmtInt(v) });
    if (c.key === F.pk) return h('td', { class: 'num', text: fmtInt(v) });
    if (c.key === F.sev) {
      const ids = [...new Set(r[F.an].map((a) => ANOM[a].id))];
      return h('td', { class: 'sev-' + SEV[r[F.sev]], text: ids.join(', ') });
    }
    return h('td', { text: String(v) });
  }
  function draw() {
    const list = view.list, from = view.page * PAGE, to = Math.min(list.length, from + PAGE);
    const body = h('tbody');
    for (let i = from; i < to; i++) {
      const r = list[i];
      const tr = h('tr', { 'data-conn-id': r[F.id] });
      for (const c of COLS) tr.append(cell(r, c));
      body.append(tr);
    }
    ui.tbody.replaceWith(body);
    ui.tbody = body;
    ui.count.textContent = fmtInt(list.length) + ' of ' + fmtInt(rows.length) + ' connections' +
      (list.length > PAGE ? ', rows ' + fmtInt(from + 1) + '-' + fmtInt(to) : '');
    ui.prev.disabled = view.page === 0;
    ui.next.disabled = to >= list.length;
    for (const th of ui.heads) {
      th.removeAttribute('data-dir');
      if (Number(th.dataset.key) === view.sort) th.dataset.dir = view.dir > 0 ? 'asc' : 'desc';
    }
    markChosen();
  }
  function table() {
    const sec = h('section', { id: 'table' }, h('h2', { text: 'Connections' }));
    const used = new Set();
    for (const r of rows) for (const a of r[F.an]) used.add(a);
    const deb = (fn) => { let t; return () => { clearTimeout(t); t = setTimeout(fn, 150); }; };
    const change = () => {
      view.filter = { state: ui.state.value, pair: view.filter.pair || '', anomaly: ui.anomaly.value,
                      sev: Number(ui.sev.value), addr: ui.addr.value.trim(),
                      port: ui.port.value.trim(), text: ui.text.value.trim().toLowerCase() };
      apply();
    };
    ui.state = h('select', { id: 'f-state', onchange: change }, h('option', { value: '', text: 'any state' }),
                 ...STATES.map((n) => h('option', { value: n, text: n })));
    ui.anomaly = h('select', { id: 'f-anomaly', onchange: change },
                   h('option', { value: '', text: 'any or no anomaly' }),
                   h('option', { value: '*', text: 'any anomaly' }),
                   ...[...used].sort((a, b) => ANOM[a].id.localeCompare(ANOM[b].id))
                     .map((a) => h('option', { value: ANOM[a].id, text: ANOM[a].id })));
    ui.sev = h('select', { id: 'f-sev', onchange: change }, h('option', { value: '0', text: 'any severity' }),
               h('option', { value: '1', text: 'info or worse' }),
               h('option', { value: '2', text: 'warning or worse' }),
               h('option', { value: '3', text: 'error' }));
    ui.addr = h('input', { id: 'f-addr', placeholder: 'address', size: 16, oninput: deb(change) });
    ui.port = h('input', { id: 'f-port', placeholder: 'port', size: 6, oninput: deb(change) });
    ui.text = h('input', { id: 'f-text', type: 'search', placeholder: 'search', size: 22, oninput: deb(change) });
    ui.pair = h('button', { id: 'f-pair', hidden: true, title: 'clear',
                            onclick: () => { view.filter.pair = ''; change(); ui.pair.hidden = true; } });
    ui.count = h('span', { id: 'conn-count' });
    sec.append(h('div', { class: 'filters' }, ui.state, ui.anomaly, ui.sev, ui.addr, ui.port, ui.text,
                 ui.pair, h('button', { onclick: () => setFilter({}), text: 'clear filters' })));
    ui.prev = h('button', { onclick: () => { view.page--; draw(); }, text: 'previous' });
    ui.next = h('button', { onclick: () => { view.page++; draw(); }, text: 'next' });
    sec.append(h('div', { class: 'pager' }, ui.count, ui.prev, ui.next));
    ui.heads = COLS.map((c) => h('th', { 'data-key': c.key, text: c.label, onclick: () => {
      if (view.sort === c.key) view.dir = -view.dir; else { view.sort = c.key; view.dir = c.num && c.key !== F.id ? -1 : 1; }
      apply();
    } }));
    ui.tbody = h('tbody');
    ui.table = h('table', { id: 'conns' }, h('thead', null, h('tr', null, ...ui.heads)), ui.tbody);
    sec.append(ui.table);
    return sec;
  }
  function markChosen() {
    const id = chosenId();
    for (const tr of ui.tbody.children) tr.classList.toggle('chosen', tr.dataset.connId === String(id));
  }

  /* ---- one connection ---- */

  function chosenId() {
    const m = /^#conn=(\d+)$/.exec(location.hash);
    return m ? Number(m[1]) : null;
  }
  // Details come in chunks (html.c): base64 of raw deflate, one JSON line per record, in
  // the order of the element's data-ids.  The last chunk inflated is kept.
  const where = new Map(); // id -> [element, line]
  for (const e of document.querySelectorAll('script[type="application/x-tcpstate-deflate"]'))
    e.dataset.ids.split(',').forEach((id, i) => where.set(Number(id), [e, i]));
  let cached = { e: null, lines: null };
  async function loadConn(id) {
    const at = where.get(id);
    if (!at) return null;
    const [e, line] = at;
    if (cached.e !== e) {
      const bin = atob(e.textContent.trim());
      const bytes = new Uint8Array(bin.length);
      for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
      const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('deflate-raw'));
      cached = { e: e, lines: (await new Response(stream).text()).split('\n') };
    }
    return JSON.parse(cached.lines[line]);
  }
  function findingFrame(a) {
    return a.evidence && a.evidence.length ? a.evidence[0] : a.first_frame;
  }

  // The ladder: one row per segment (or collapsed run), both endpoints' lifelines with
  // their state bands, findings at their evidence frames.
  function ladder(rec, seg) {
    const RH = 22, TOP = 46, XC = 340, XS = 800;
    const rowsL = seg.rows;
    const findings = rec.anomalies || [];
    const atRow = new Map(); // row index -> findings
    const unplaced = [];
    findings.forEach((a) => {
      const fr = findingFrame(a);
      let k = rowsL.findIndex((r) => (r[2] < 2 ? r[0] === fr : r[0] <= fr && fr <= r[5]));
      if (k < 0) unplaced.push(a); else { if (!atRow.has(k)) atRow.set(k, []); atRow.get(k).push(a); }
    });
    const openAtEnd = rec.open_at_end;
    let longest = 0; // the widest findings label of a row, in characters
    for (const fs of atRow.values())
      longest = Math.max(longest, fs.reduce((n, a) => n + a.type.length + a.endpoint.length + 5, 0));
    const W = Math.max(1100, XS + 180 + 7 * longest);
    const endRows = 2 + (unplaced.length ? 1 : 0);
    const H = TOP + (rowsL.length + endRows) * RH + 20;
    const g = s('svg', { id: 'ladder', width: W, height: H, viewBox: '0 0 ' + W + ' ' + H,
                         'data-conn-id': rec.id, role: 'img' });
    const defs = s('defs', {});
    for (const [id, col] of [['ah', '#33475b'], ['ah-r', '#b3261e'], ['ah-o', '#c26a00'], ['ah-g', '#888']]) {
      const m = s('marker', { id: id, viewBox: '0 0 10 10', refX: 10, refY: 5, markerWidth: 7,
                              markerHeight: 7, orient: 'auto-start-reverse' });
      m.append(s('path', { d: 'M0,0 L10,5 L0,10 z', fill: col }));
      defs.append(m);
    }
    g.append(defs);
    g.append(s('text', { x: 8, y: 18, 'font-weight': 'bold' }, 'frame'));
    g.append(s('text', { x: 70, y: 18, 'font-weight': 'bold' }, 'time (s)'));
    g.append(s('text', { x: XC, y: 18, 'text-anchor': 'middle', 'font-weight': 'bold' },
               'client ' + endpoint(rec.client.addr, rec.client.port)));
    g.append(s('text', { x: XS, y: 18, 'text-anchor': 'middle', 'font-weight': 'bold' },
               'server ' + endpoint(rec.server.addr, rec.server.port)));
    const yOf = (k) => TOP + k * RH;
    // State bands, from the record's timeline (every change, timers too, observed or
    // inferred); from the rows' states if the timeline was capped.
    const bandW = 14;
    const endY = yOf(rowsL.length) + RH;
    const rowAt = (frame, ts) => {
      if (frame) {
        const k = rowsL.findIndex((r) => (r[2] < 2 ? r[0] === frame : r[0] <= frame && frame <= r[5]));
        if (k >= 0) return yOf(k) + RH / 2;
      }
      const k = rowsL.findIndex((r) => rec.first_ts + r[1] / 1e6 > ts + 5e-7);
      return k < 0 ? yOf(rowsL.length) + RH / 2 : yOf(k);
    };
    const stOf = (r) => (r[2] < 2 ? r[9] : r[17]);
    for (let who = 0; who < 2; who++) {
      const x = who === 0 ? XC : XS;
      const ep = who === 0 ? rec.client : rec.server;
      g.append(s('line', { x1: x, y1: TOP - 10, x2: x, y2: endY, stroke: '#9aa5b1', 'stroke-dasharray': '2,3' }));
      let bands = [];
      if (!ep.transitions_dropped && (ep.transitions || []).length) {
        bands = ep.transitions.map((t) => ({ y: rowAt(t.frame, t.ts), state: t.to,
                                              inferred: t.how === 'inferred', frame: t.frame, ts: t.ts }));
      } else {
        let prev = -1;
        rowsL.forEach((r, k) => {
          const st = who === 0 ? stOf(r) >> 4 : stOf(r) & 15;
          if (st !== prev) bands.push({ y: yOf(k) + RH / 2, state: STATES[st], frame: r[0],
                                        inferred: r[2] < 2 && ((r[10] >> (2 + who)) & 1) === 1 });
          prev = st;
        });
      }
      bands.forEach((b, i) => {
        const y2 = i + 1 < bands.length ? bands[i + 1].y : endY;
        const band = s('rect', { x: x - bandW / 2, y: b.y, width: bandW, height: Math.max(2, y2 - b.y),
                                 fill: STATE_COLOUR[b.state] || '#eee', stroke: '#6b7785',
                                 'stroke-width': 0.6, 'data-state': b.state,
                                 'data-who': who === 0 ? 'client' : 'server',
                                 'data-inferred': b.inferred ? 'true' : 'false' });
        band.append(s('title', {}, (who === 0 ? 'client ' : 'server ') + b.state +
                      (b.inferred ? ' (inferred)' : ' (observed)') +
                      (b.frame ? ' from frame ' + b.frame : ' from ' + fmtTime(b.ts))));
        g.append(band);
        // Changes at one row share one label: "~FIN_WAIT_2 -> TIME_WAIT".
        if (i + 1 < bands.length && bands[i + 1].y === b.y) return;
        let j = i;
        while (j > 0 && bands[j - 1].y === b.y) j--;
        const text = bands.slice(j, i + 1).map((x) => (x.inferred ? '~' : '') + x.state).join(' \u2192 ');
        g.append(s('text', { x: who === 0 ? x - 12 : x + 12, y: b.y + 4,
                             'text-anchor': who === 0 ? 'end' : 'start', 'font-weight': 'bold',
                             'font-style': b.inferred ? 'italic' : 'normal', fill: '#26323f' }, text));
      });
    }
    rowsL.forEach((r, k) => {
      const y = yOf(k) + RH / 2;
      const dt = ((r[1]) / 1e6).toFixed(6);
      g.append(s('text', { x: 52, y: y + 4, 'text-anchor': 'end', fill: '#5f6b7a' }, String(r[0])));
      g.append(s('text', { x: 140, y: y + 4, 'text-anchor': 'end', fill: '#5f6b7a' }, dt));
      if (r[2] >= 2) {
        const grp = s('g', { class: 'run', 'data-frames': r[0] + '-' + r[5] });
        grp.append(s('line', { x1: XC + 10, y1: y, x2: XS - 10, y2: y, stroke: '#888',
                               'stroke-dasharray': '6,4' }));
        const txt = (r[2] === 3 ? 'the rest: ' : '... ') + fmtInt(r[3]) + ' segments, ' +
          fmtBytes(r[4]) + ', ' + ((r[6] - r[1]) / 1e6).toFixed(3) + ' s (frames ' + r[0] + '-' + r[5] + ')' +
          (r[7] & M_RETR ? ', retransmissions' : '') + (r[2] === 2 ? ' ...' : '');
        grp.append(s('text', { x: (XC + XS) / 2, y: y - 4, 'text-anchor': 'middle', fill: '#555' }, txt));
        g.append(grp);
      } else {
        const fromC = r[2] === 0;
        const x1 = fromC ? XC + 8 : XS - 8, x2 = fromC ? XS - 8 : XC + 8;
        const f = r[3], marks = r[8];
        let col = '#33475b', mk = 'ah', dash = null;
        if (f & RST) { col = '#b3261e'; mk = 'ah-r'; }
        else if (marks & (M_RETR | M_DUP)) { col = '#c26a00'; mk = 'ah-o'; dash = '5,3'; }
        else if (marks & M_KEEP) { col = '#888'; mk = 'ah-g'; dash = '2,3'; }
        const grp = s('g', { class: 'seg', 'data-frame': r[0], 'data-from': fromC ? 'client' : 'server' });
        const ln = s('line', { x1: x1, y1: y - 5, x2: x2, y2: y + 5, stroke: col, 'stroke-width': 1.4,
                               'marker-end': 'url(#' + mk + ')' });
        if (dash) ln.setAttribute('stroke-dasharray', dash);
        grp.append(ln);
        let label = flagText(f) + ' seq=' + r[4] + (f & ACK ? ' ack=' + r[5] : '') + ' len=' + r[6] +
          ' win=' + r[7];
        const tags = [];
        if (marks & M_RETR) tags.push('retransmission');
        if (marks & M_DUP) tags.push('copy');
        if (marks & M_KEEP) tags.push('keep-alive');
        if (marks & M_ZWIN) tags.push('zero window');
        if (tags.length) label += ' [' + tags.join(', ') + ']';
        grp.append(s('text', { x: (XC + XS) / 2, y: y - 5, 'text-anchor': 'middle',
                               fill: marks & M_ZWIN ? '#6a1b9a' : col }, label));
        grp.append(s('title', {}, 'frame ' + r[0] + ' at +' + dt + ' s: ' + label));
        g.append(grp);
      }
      const fs = atRow.get(k);
      if (fs) {
        const txt = fs.map((a) => a.type + ' (' + a.endpoint + ')').join(', ');
        const sev = fs.some((a) => a.severity === 'error') ? 'error' : fs.some((a) => a.severity === 'warning') ? 'warning' : 'info';
        const col = sev === 'error' ? '#b3261e' : sev === 'warning' ? '#a15c00' : '#2d6f8a';
        const fg = s('g', { class: 'finding', 'data-anomaly': fs.map((a) => a.type).join(' ') });
        fg.append(s('circle', { cx: XS + 150, cy: y, r: 5, fill: col }));
        fg.append(s('text', { x: XS + 160, y: y + 4, fill: col, 'font-weight': 'bold' }, txt));
        g.append(fg);
      }
    });
    let y = endY + RH / 2 + 6;
    if (unplaced.length) {
      const fg = s('g', { class: 'finding', 'data-anomaly': unplaced.map((a) => a.type).join(' ') });
      fg.append(s('text', { x: XC, y: y, fill: '#b3261e', 'font-weight': 'bold' },
                  '! ' + unplaced.map((a) => a.type + ' (' + a.endpoint + ')').join(', ')));
      g.append(fg);
      y += RH;
    }
    const cend = meta.summary.capture && meta.summary.capture.end;
    const endText = openAtEnd
      ? 'capture ends ' + (cend ? fmtSecs(cend - rec.last_ts) + ' after the last packet' : 'here') +
        ': client ' + rec.client.state + ', server ' + rec.server.state +
        (findings.filter((a) => a.still_at_capture_end).length
          ? '; still: ' + findings.filter((a) => a.still_at_capture_end).map((a) => a.type + '(' + a.endpoint + ')').join(', ')
          : '')
      : 'ends: client ' + rec.client.state + ', server ' + rec.server.state + ' (' + rec.end_reason + ')';
    g.append(s('text', { x: 8, y: y, class: 'end', 'font-weight': 'bold' }, endText));
    return g;
  }

  // Sequence number against time for one direction (tcptrace's and Wireshark's Stevens
  // graph): data as vertical bars (retransmissions red), the peer's ACKs and the edge of its
  // receive window as steps, zero-window time shaded.
  function tseq(rec, seg, dir) {
    const W = 1100, H = 380, L = 80, R = 20, T = 20, B = 40;
    const g = s('svg', { id: 'tseq', width: W, height: H, viewBox: '0 0 ' + W + ' ' + H,
                         'data-dir': dir === 0 ? 'client' : 'server' });
    const data = [], acks = [], wins = [], zero = [];
    let maxY = 1, maxT = 1e-6, maxW = 0;
    let zStart = null;
    for (const r of seg.rows) {
      const isRun = r[2] >= 2;
      const tA = r[1] / 1e6, tB = isRun ? r[6] / 1e6 : tA;
      maxT = Math.max(maxT, tB);
      if (!isRun) {
        if (r[2] === dir) {
          data.push({ t: tA, a: r[4], b: r[4] + Math.max(r[6], (r[3] & (SYN | FIN)) ? 1 : 0),
                      retr: r[8] & (M_RETR | M_DUP), keep: r[8] & M_KEEP, f: r[3], frame: r[0] });
          maxY = Math.max(maxY, r[4] + r[6]);
        } else if (r[3] & ACK) {
          acks.push([tA, r[5]]);
          wins.push([tA, r[5] + r[7]]);
          maxY = Math.max(maxY, r[5]);
          maxW = Math.max(maxW, r[5] + r[7]);
          if (r[7] === 0 && zStart === null) zStart = tA;
          if (r[7] > 0 && zStart !== null) { zero.push([zStart, tA]); zStart = null; }
        }
      } else {
        const o = 9 + 4 * dir, p = 9 + 4 * (1 - dir);
        if (r[8] & (1 << dir)) {
          data.push({ run: true, t: tA, t2: tB, a: r[o], b: r[o + 1], retr: r[7] & M_RETR });
          maxY = Math.max(maxY, r[o + 1]);
        }
        if (r[8] & (1 << (1 - dir))) {
          acks.push([tB, r[p + 2]]);
          wins.push([tB, r[p + 2] + r[p + 3]]);
          maxY = Math.max(maxY, r[p + 2]);
          maxW = Math.max(maxW, r[p + 2] + r[p + 3]);
        }
      }
    }
    if (zStart !== null) zero.push([zStart, maxT]);
    // The window's edge is drawn, but a wide window must not flatten the data: the scale
    // stops a quarter above the data and the edge is clipped there.
    maxY = Math.max(maxY, Math.min(maxW, maxY * 1.25));
    const xs = (t) => L + (t / maxT) * (W - L - R);
    const ys = (v) => H - B - (v / maxY) * (H - T - B);
    g.append(s('rect', { x: L, y: T, width: W - L - R, height: H - T - B, fill: '#fbfcfe', stroke: '#d5dbe3' }));
    const clip = s('clipPath', { id: 'tseq-area' });
    clip.append(s('rect', { x: L, y: T, width: W - L - R, height: H - T - B }));
    g.append(clip);
    for (const [a, b] of zero)
      g.append(s('rect', { class: 'zero-window', x: xs(a), y: T, width: Math.max(2, xs(b) - xs(a)),
                           height: H - T - B, fill: '#e9d5f5', opacity: 0.7 }));
    // Axes, with ticks at 1, 2 or 5 times a power of ten.
    const ticks = (max) => {
      const raw = max / 5, p = Math.pow(10, Math.floor(Math.log10(raw)));
      const stepv = [1, 2, 5, 10].map((m) => m * p).find((v) => v >= raw);
      const out = [];
      for (let v = 0; v <= max + stepv * 1e-9; v += stepv) out.push(v);
      return { list: out, step: stepv };
    };
    const unit = (v) => (v >= 1e6 ? +(v / 1e6).toFixed(2) + 'M' : v >= 1e3 ? +(v / 1e3).toFixed(2) + 'k' : String(+v.toFixed(0)));
    const tt = ticks(maxT);
    const digits = Math.max(0, -Math.floor(Math.log10(tt.step)));
    for (const t of tt.list)
      g.append(s('text', { x: xs(t), y: H - B + 16, 'text-anchor': 'middle', fill: '#5f6b7a' }, t.toFixed(digits)));
    for (const v of ticks(maxY).list) {
      g.append(s('text', { x: L - 6, y: ys(v) + 4, 'text-anchor': 'end', fill: '#5f6b7a' }, unit(v)));
      g.append(s('line', { x1: L, y1: ys(v), x2: W - R, y2: ys(v), stroke: '#eef1f5' }));
    }
    g.append(s('text', { x: (L + W - R) / 2, y: H - 6, 'text-anchor': 'middle' }, 'time since the first packet (s)'));
    g.append(s('text', { x: 14, y: T + (H - T - B) / 2, transform: 'rotate(-90 14 ' + (T + (H - T - B) / 2) + ')',
                         'text-anchor': 'middle' }, 'relative sequence number (bytes)'));
    const step = (pts, col, cls) => {
      if (!pts.length) return;
      let d = 'M' + xs(pts[0][0]) + ',' + ys(pts[0][1]);
      for (let i = 1; i < pts.length; i++) d += ' H' + xs(pts[i][0]) + ' V' + ys(pts[i][1]);
      d += ' H' + xs(maxT);
      g.append(s('path', { class: cls, d: d, fill: 'none', stroke: col, 'stroke-width': 1.2,
                           'clip-path': 'url(#tseq-area)' }));
    };
    step(wins, '#b59b00', 'window');
    step(acks, '#1e7b34', 'ack');
    for (const p of data) {
      const col = p.retr ? '#d32f2f' : p.keep ? '#888' : '#1f4fa0';
      if (p.run) {
        g.append(s('line', { class: 'run', x1: xs(p.t), y1: ys(p.a), x2: xs(p.t2), y2: ys(p.b), stroke: col,
                             'stroke-width': 2 }));
      } else {
        const e = s('line', { class: p.retr ? 'data retrans' : 'data', x1: xs(p.t), y1: ys(p.a), x2: xs(p.t),
                              y2: Math.min(ys(p.b), ys(p.a) - 2), stroke: col, 'stroke-width': 2 });
        e.append(s('title', {}, 'frame ' + p.frame + ' ' + flagText(p.f) + ' seq ' + p.a + '-' + p.b +
                   (p.retr ? ' (retransmission)' : '')));
        g.append(e);
      }
    }
    return g;
  }

  async function detail(id) {
    const box = document.getElementById('detail');
    box.replaceChildren();
    box.hidden = true;
    box.removeAttribute('data-conn-id');
    if (id === null) return;
    const d = await loadConn(id);
    if (chosenId() !== id) return; // another one was chosen meanwhile
    if (!d) {
      box.hidden = false;
      box.removeAttribute('data-conn-id');
      box.append(h('p', { class: 'muted', text: 'Connection #' + id + ' is not in this report.' }));
      return;
    }
    const rec = d.r, seg = d.s;
    box.hidden = false;
    box.setAttribute('data-conn-id', id);
    box.append(h('button', { class: 'close', onclick: () => { history.pushState(null, '', '#'); route(false); },
                             text: 'close' }));
    box.append(h('h2', null, 'Connection #' + id + ' ', h('span', { class: 'mono',
      text: endpoint(rec.client.addr, rec.client.port) + ' \u2192 ' + endpoint(rec.server.addr, rec.server.port) })));
    const ft = h('table', { class: 'facts' });
    kv(ft, 'final states', h('span', null, 'client ', stateChip(rec.client.state), '  server ',
                             stateChip(rec.server.state), rec.open_at_end ? '  (open at the end)' : ''));
    kv(ft, 'roles', rec.roles + ', IPv' + rec.ip_version);
    kv(ft, 'time', fmtTime(rec.first_ts) + ', ' + fmtSecs(rec.duration) + ', frames ' + rec.first_frame + '-' + rec.last_frame);
    kv(ft, 'packets', 'client ' + fmtInt(rec.client.packets) + ' (' + fmtBytes(rec.client.payload_bytes) + ' data), server ' +
       fmtInt(rec.server.packets) + ' (' + fmtBytes(rec.server.payload_bytes) + ' data)');
    kv(ft, 'retransmissions', 'client ' + rec.client.retransmissions.segments + ', server ' + rec.server.retransmissions.segments);
    kv(ft, 'end', rec.end_reason + ', Zeek ' + rec.conn_state + ' ' + rec.history);
    for (const who of ['client', 'server']) {
      const e = rec[who];
      if (e.kernel_state || e.process)
        kv(ft, who + ' host', (e.kernel_state ? 'kernel ' + e.kernel_state + ' ' : '') +
           (e.process ? 'pid ' + e.process.pid + ' ' + e.process.command : ''));
    }
    kv(ft, 'Wireshark', h('code', { id: 'ws-filter', text: rec.wireshark_filter }));
    box.append(ft);
    if ((rec.anomalies || []).length) {
      box.append(h('h3', { text: 'Anomalies' }));
      const at = h('table', { class: 'facts', id: 'conn-anomalies' });
      for (const a of rec.anomalies) {
        const facts = Object.entries(a).filter(([k]) => !['type', 'severity', 'endpoint', 'first_ts', 'first_frame',
          'last_ts', 'last_frame', 'count', 'evidence'].includes(k)).map(([k, v]) => k + '=' + JSON.stringify(v)).join(' ');
        at.append(h('tr', null, h('td', { class: 'sev-' + a.severity, text: a.type }),
                    h('td', { text: a.endpoint }), h('td', { text: 'frame ' + findingFrame(a) +
                    (a.count > 1 ? ' (' + a.count + ' times)' : '') }), h('td', { class: 'mono', text: facts })));
      }
      box.append(at);
    }
    box.append(h('h3', { text: 'Ladder' }));
    box.append(h('div', { class: 'legend' },
      h('span', { text: 'seq and ack are relative to each side\u2019s ISN; win is scaled; ~STATE: inferred from the peer\u2019s segments' })));
    if (seg.segments > seg.rows.filter((r) => r[2] < 2).length)
      box.append(h('div', { class: 'legend', text: fmtInt(seg.segments) + ' segments: ordinary data after the first ones is collapsed into runs' }));
    box.append(h('div', { class: 'svgbox' }, ladder(rec, seg)));
    box.append(h('h3', { text: 'Time-sequence' }));
    const plot = h('div', { class: 'svgbox' });
    const bC = h('button', { text: 'client \u2192 server' });
    const bS = h('button', { text: 'server \u2192 client' });
    const first = rec.server.payload_bytes > rec.client.payload_bytes ? 1 : 0; // the data's way
    const show = (dir) => { plot.replaceChildren(tseq(rec, seg, dir)); bC.classList.toggle('on', dir === 0);
                            bS.classList.toggle('on', dir === 1); };
    bC.addEventListener('click', () => show(0));
    bS.addEventListener('click', () => show(1));
    box.append(h('div', { class: 'filters' }, bC, bS, h('span', { class: 'legend' },
      h('span', null, h('i', { class: 'swatch', style: 'background:#1f4fa0' }), 'data'),
      h('span', null, h('i', { class: 'swatch', style: 'background:#d32f2f' }), 'retransmission'),
      h('span', null, h('i', { class: 'swatch', style: 'background:#1e7b34' }), 'ACK'),
      h('span', null, h('i', { class: 'swatch', style: 'background:#b59b00' }), 'receive window'),
      h('span', null, h('i', { class: 'swatch', style: 'background:#e9d5f5' }), 'zero window'))));
    box.append(plot);
    show(first);
    box.append(h('h3', { text: 'State timeline' }));
    const tl = h('table', { class: 'facts', id: 'timeline' });
    const all = [];
    for (const who of ['client', 'server'])
      for (const t of rec[who].transitions || []) all.push(Object.assign({ who: who }, t));
    all.sort((a, b) => a.ts - b.ts || (a.frame || 0) - (b.frame || 0));
    for (const t of all)
      tl.append(h('tr', null, h('td', { class: 'mono', text: ((t.ts - rec.first_ts)).toFixed(6) }),
                  h('td', { text: t.frame ? 'frame ' + t.frame : '' }), h('td', { text: t.who }),
                  h('td', null, stateChip(t.from), ' \u2192 ', stateChip(t.to)),
                  h('td', { class: 'muted', text: t.how + ', ' + t.cause })));
    box.append(tl);
    box.append(h('details', null, h('summary', { text: 'record (JSON)' }),
                 h('pre', { text: JSON.stringify(rec, null, 2) })));
  }

  async function route(scroll) {
    const id = chosenId();
    markChosen();
    await detail(id);
    if (scroll && id !== null) window.scrollTo(0, 0);
  }

  const app = document.getElementById('app');
  app.replaceChildren(
    h('header', { class: 'top' }, h('h1', { text: 'tcpstate report' }),
      h('span', { class: 'muted', text: (meta.inputs || []).map((i) => i.name).join(', ') }),
      h('span', { class: 'muted', text: 'tcpstate ' + meta.tcpstate_version })),
    h('main', null, h('section', { id: 'detail', hidden: true }), summary(), table()));
  apply();
  window.addEventListener('hashchange', () => route(true));
  route(false).then(() => { document.body.dataset.ready = 'true'; },
                    (e) => { console.error(e); document.body.dataset.ready = 'error'; });
})();
