/*! tessera.js - Tessera website tag, Segment-compatible */
(function (win, doc) {
  'use strict';
  const stub = win.tessera;
  if (stub && stub.__tessera) return;

  const VERSION = '1.0.0';
  const K = { anon: 'tessera_aid', user: 'tessera_uid', queue: 'tessera_queue', utm: 'tessera_utm' };
  const UTM = { utm_source: 'source', utm_medium: 'medium', utm_campaign: 'name', utm_term: 'term', utm_content: 'content' };
  const MAX_TRIES = 5;
  const FETCH_BYTES = 400000; // server limit: 500 KB
  const BEACON_BYTES = 60000; // browser limit: 64 KB
  const cfg = { writeKey: '', apiHost: '', autoPage: true, flushAt: 10, flushInterval: 1000 };

  // Storage may throw (privacy mode, quota).
  function getItem(area, key) { try { return win[area].getItem(key); } catch (e) { return null; } }
  function setItem(area, key, value) {
    try { value == null ? win[area].removeItem(key) : win[area].setItem(key, value); } catch (e) { /* ignore */ }
  }
  function readJSON(area, key) { try { return JSON.parse(getItem(area, key)); } catch (e) { return null; } }
  // Ids live in a first-party cookie and in localStorage.
  function recall(key) {
    const m = doc.cookie.match(new RegExp('(?:^|; )' + key + '=([^;]*)'));
    return (m && decodeURIComponent(m[1])) || getItem('localStorage', key);
  }
  function remember(key, value) {
    doc.cookie = key + '=' + (value == null ? '; Max-Age=0' : encodeURIComponent(value) + '; Max-Age=31536000') +
      '; Path=/; SameSite=Lax' + (location.protocol === 'https:' ? '; Secure' : '');
    setItem('localStorage', key, value);
  }

  function uuid() { // randomUUID needs a secure context
    const c = win.crypto;
    if (c.randomUUID) return c.randomUUID();
    const r = () => c.getRandomValues(new Uint8Array(1))[0];
    return '10000000-1000-4000-8000-100000000000'.replace(/[018]/g, (d) => (d ^ (r() & (15 >> (d / 4)))).toString(16));
  }
  const isObject = (v) => !!v && typeof v === 'object';
  const bytes = (s) => new Blob([s]).size;

  let anonymousId = recall(K.anon) || uuid();
  let userId = recall(K.user) || null;
  remember(K.anon, anonymousId);

  // utm_* of the landing URL, kept for the session.
  function campaign() {
    const params = new URLSearchParams(location.search);
    const found = {};
    for (const p in UTM) if (params.get(p)) found[UTM[p]] = params.get(p);
    if (!Object.keys(found).length) return readJSON('sessionStorage', K.utm);
    setItem('sessionStorage', K.utm, JSON.stringify(found));
    return found;
  }
  function pageInfo() {
    const l = location;
    return { path: l.pathname, referrer: doc.referrer, search: l.search, title: doc.title, url: l.href };
  }
  function context(extra) {
    const ctx = { library: { name: 'tessera.js', version: VERSION }, page: pageInfo(), userAgent: navigator.userAgent };
    ctx.locale = navigator.language;
    const utm = campaign();
    if (utm) ctx.campaign = utm;
    return Object.assign(ctx, extra);
  }

  // Events wait in memory and in localStorage until sent.
  let queue = [];
  let inflight = false;
  let timer = null;
  let due = 0;
  let tries = 0;
  let failing = false;

  function stored() { const q = readJSON('localStorage', K.queue); return Array.isArray(q) ? q : []; }
  function storeAdd(event) { setItem('localStorage', K.queue, JSON.stringify(stored().concat([event]).slice(-500))); }
  function storeRemove(events) {
    const ids = new Set(events.map((e) => e.messageId));
    const rest = stored().filter((e) => !ids.has(e.messageId));
    setItem('localStorage', K.queue, rest.length ? JSON.stringify(rest) : null);
  }
  // Events off the queue that fit in `limit` bytes (at least one).
  function take(limit) {
    let size = 200;
    let n = 0;
    for (; n < queue.length; n++) {
      size += bytes(JSON.stringify(queue[n])) + 1;
      if (n && size > limit) break;
    }
    return queue.splice(0, n);
  }
  function url() { return cfg.apiHost.replace(/\/+$/, '') + '/v1/batch?writeKey=' + encodeURIComponent(cfg.writeKey); }
  function payload(events) { return JSON.stringify({ batch: events, sentAt: new Date().toISOString(), writeKey: cfg.writeKey }); }
  // The sooner wins: a full queue must not wait for the long timer set while a send was in flight.
  function schedule(delay) {
    if (timer && due <= Date.now() + delay) return;
    clearTimeout(timer);
    due = Date.now() + delay;
    timer = setTimeout(() => { timer = null; flush(); }, delay);
  }
  function enqueue(event) {
    queue.push(event);
    storeAdd(event);
    if (queue.length >= cfg.flushAt) flush(); else schedule(cfg.flushInterval);
  }

  // text/plain: no CORS preflight. Network errors, 429 and 5xx retry with backoff.
  async function flush() {
    if (!cfg.writeKey || inflight || !queue.length) return;
    timer = clearTimeout(timer);
    inflight = true;
    const events = take(FETCH_BYTES);
    const body = payload(events);
    const init = { method: 'POST', body, headers: { 'Content-Type': 'text/plain' }, keepalive: bytes(body) < BEACON_BYTES };
    const res = await fetch(url(), init).catch(() => null);
    const status = res ? res.status : 0;
    inflight = false;
    failing = !status || status >= 500 || status === 429;
    if (!failing) { // taken, or refused for good (4xx)
      if (status >= 300) console.warn('tessera: HTTP ' + status);
      tries = 0;
      storeRemove(events);
      if (queue.length) schedule(queue.length >= cfg.flushAt ? 0 : cfg.flushInterval);
      return;
    }
    queue = events.concat(queue);
    if (++tries < MAX_TRIES) schedule(1000 * Math.pow(2, tries - 1));
    else tries = 0; // until the next call or page
  }

  // Page hidden or left: sendBeacon outlives the page.
  function flushOnHide() {
    timer = clearTimeout(timer);
    if (!cfg.writeKey || !queue.length) return;
    while (queue.length) {
      const events = take(BEACON_BYTES);
      const body = payload(events);
      let sent = false;
      try {
        sent = bytes(body) <= BEACON_BYTES && navigator.sendBeacon(url(), new Blob([body], { type: 'text/plain' }));
      } catch (e) { /* not sent */ }
      if (!sent) { queue = events.concat(queue); return; }
      // While sends fail, the next page resends too (deduplicated by messageId).
      if (!failing) storeRemove(events);
    }
  }

  function message(type, fields, options) {
    options = isObject(options) ? options : {};
    const event = Object.assign({
      type,
      messageId: uuid(),
      anonymousId,
      timestamp: new Date(options.timestamp || Date.now()).toISOString(),
      context: context(options.context),
    }, fields);
    if (userId && !event.userId) event.userId = userId;
    enqueue(event);
  }

  let pageDone = false;
  // page([category], [name], [properties], [options])
  function page(category, name, properties, options) {
    if (isObject(category)) [category, name, properties, options] = [null, null, category, name];
    else if (typeof name !== 'string') [category, name, properties, options] = [null, category, name, properties];
    const fields = { properties: Object.assign(pageInfo(), properties) };
    if (name) fields.name = fields.properties.name = name;
    if (category) fields.category = fields.properties.category = category;
    pageDone = true;
    message('page', fields, options);
  }

  function track(event, properties, options) {
    if (!event) throw new TypeError('tessera.track needs an event name');
    message('track', { event, properties: Object.assign({}, properties) }, options);
  }

  // identify([userId], [traits], [options]); the userId is remembered.
  function identify(id, traits, options) {
    if (isObject(id)) { options = traits; traits = id; id = null; }
    if (id != null && id !== '') remember(K.user, (userId = String(id)));
    message('identify', { traits: Object.assign({}, traits) }, options);
  }

  // alias(newUserId, [previousId = current userId or anonymousId])
  function alias(newId, previousId, options) {
    if (isObject(previousId)) { options = previousId; previousId = null; }
    if (!newId) throw new TypeError('tessera.alias needs the new user id');
    const previous = String(previousId || userId || anonymousId);
    remember(K.user, (userId = String(newId)));
    message('alias', { userId, previousId: previous }, options);
  }

  // Log-out: forget the user, new anonymousId.
  function reset() {
    remember(K.user, (userId = null));
    remember(K.anon, (anonymousId = uuid()));
  }

  // load(writeKey, {apiHost, autoPage, flushAt, flushInterval})
  function load(writeKey, options) {
    if (!writeKey) return;
    options = options || {};
    cfg.writeKey = String(writeKey);
    cfg.apiHost = String(options.apiHost || cfg.apiHost);
    cfg.autoPage = options.autoPage !== false && options.autoPage !== 'false';
    cfg.flushAt = Number(options.flushAt) || cfg.flushAt;
    cfg.flushInterval = Number(options.flushInterval) || cfg.flushInterval;
    schedule(0);
  }

  const api = {
    __tessera: true,
    VERSION,
    load, page, track, identify, alias, reset, flush,
    user: () => ({ anonymousId, userId }),
  };

  // Start: config from a queued load() or data-* attributes, then replay the stub's calls.
  const script = doc.currentScript || doc.querySelector('script[src*="tag.js"]');
  const d = script ? script.dataset : {};
  cfg.apiHost = script ? new URL(script.src, location.href).origin : location.origin; // default: where tag.js came from
  const calls = Array.isArray(stub) ? stub.slice() : [];
  const loadCall = calls.find((c) => c && c[0] === 'load');
  if (loadCall) load(loadCall[1], loadCall[2]);
  else load(d.writeKey, { apiHost: d.apiHost, autoPage: d.autoPage, flushAt: d.flushAt, flushInterval: d.flushInterval });
  queue = stored(); // what an earlier page could not send
  win.tessera = api;
  calls.forEach((c) => {
    if (!c || c[0] === 'load') return;
    try { api[c[0]].apply(api, c.slice(1)); } catch (e) { console.warn('tessera:', e); }
  });
  if (cfg.autoPage && !pageDone) page();

  doc.addEventListener('visibilitychange', () => { if (doc.visibilityState === 'hidden') flushOnHide(); });
  win.addEventListener('pagehide', flushOnHide);
})(window, document);
