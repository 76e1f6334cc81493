/*! tessera.js - Tessera website tag. Segment-compatible, no dependencies. */
(function (win, doc) {
  'use strict';
  const stub = win.tessera;
  if (stub && stub.__tessera) return; // already loaded

  const VERSION = '1.0.0';
  const K = { anon: 'tessera_aid', user: 'tessera_uid', traits: 'tessera_traits', queue: 'tessera_queue', utm: 'tessera_utm' };
  const UTM = { utm_source: 'source', utm_medium: 'medium', utm_campaign: 'name', utm_term: 'term', utm_content: 'content' };
  const MAX_TRIES = 5;
  const MAX_STORED = 500;
  const FETCH_BYTES = 400000; // the server takes 500 KB per request
  const BEACON_BYTES = 60000; // browsers take about 64 KB per beacon
  const cfg = { writeKey: '', apiHost: '', autoPage: true, flushAt: 10, flushInterval: 1000, cookieDomain: '' };

  // ---- storage: every access may throw (privacy modes, full quota) ----
  function getItem(area, key) { try { return win[area].getItem(key); } catch (e) { return null; } }
  function setItem(area, key, value) {
    try { if (value == null) win[area].removeItem(key); else win[area].setItem(key, value); } catch (e) { /* ignore */ }
  }
  function readJSON(area, key) { try { return JSON.parse(getItem(area, key)); } catch (e) { return null; } }
  function getCookie(name) {
    const m = doc.cookie.match(new RegExp('(?:^|; )' + name + '=([^;]*)'));
    return m ? decodeURIComponent(m[1]) : null;
  }
  function setCookie(name, value) {
    doc.cookie = name + '=' + (value == null ? '; Max-Age=0' : encodeURIComponent(value) + '; Max-Age=31536000') +
      '; Path=/; SameSite=Lax' + (cfg.cookieDomain ? '; Domain=' + cfg.cookieDomain : '') +
      (location.protocol === 'https:' ? '; Secure' : '');
  }
  // Identity lives in a first-party cookie and in localStorage: either copy restores the other.
  function recall(key) { return getCookie(key) || getItem('localStorage', key); }
  function remember(key, value) { setCookie(key, value); setItem('localStorage', key, value); }

  function uuid() {
    const c = win.crypto;
    if (c && c.randomUUID) return c.randomUUID();
    const b = new Uint8Array(16);
    if (c && c.getRandomValues) c.getRandomValues(b); else for (let i = 0; i < 16; i++) b[i] = Math.random() * 256;
    b[6] = (b[6] & 15) | 64;
    b[8] = (b[8] & 63) | 128;
    const h = Array.from(b, (x) => (x + 256).toString(16).slice(1)).join('');
    return [h.slice(0, 8), h.slice(8, 12), h.slice(12, 16), h.slice(16, 20), h.slice(20)].join('-');
  }
  const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
  const bytes = (s) => new Blob([s]).size;

  // ---- identity ----
  let anonymousId = recall(K.anon) || uuid();
  let userId = recall(K.user) || null;
  let traits = readJSON('localStorage', K.traits) || {};
  remember(K.anon, anonymousId); // refreshes both copies and the cookie's expiry

  // ---- context ----
  function campaign() {
    const params = new URLSearchParams(location.search);
    const found = {};
    Object.keys(UTM).forEach((p) => { if (params.get(p)) found[UTM[p]] = params.get(p); });
    if (Object.keys(found).length) {
      setItem('sessionStorage', K.utm, JSON.stringify(found)); // kept for the rest of the session
      return found;
    }
    return readJSON('sessionStorage', K.utm);
  }
  function pageInfo() {
    return { path: location.pathname, referrer: doc.referrer, search: location.search, title: doc.title, url: location.href };
  }
  function context(extra) {
    const ctx = {
      library: { name: 'tessera.js', version: VERSION },
      page: pageInfo(),
      userAgent: navigator.userAgent,
      locale: navigator.language,
      screen: { width: win.screen.width, height: win.screen.height, density: win.devicePixelRatio },
    };
    try { ctx.timezone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { /* ignore */ }
    const utm = campaign();
    if (utm) ctx.campaign = utm;
    return Object.assign(ctx, extra);
  }

  // ---- queue: in memory, mirrored in localStorage until the server took it ----
  let queue = [];
  let inflight = false;
  let timer = null;
  let tries = 0;

  function stored() { const q = readJSON('localStorage', K.queue); return Array.isArray(q) ? q : []; }
  function storeAdd(events) { setItem('localStorage', K.queue, JSON.stringify(stored().concat(events).slice(-MAX_STORED))); }
  function storeRemove(events) {
    const ids = new Set(events.map((e) => e.messageId));
    const rest = stored().filter((e) => !ids.has(e.messageId));
    setItem('localStorage', K.queue, rest.length ? JSON.stringify(rest) : null);
  }
  // Takes events off the front of the queue while the request stays under `limit` bytes.
  function take(limit) {
    let size = 200;
    let n = 0;
    while (n < queue.length && n < 500) {
      size += bytes(JSON.stringify(queue[n])) + 1;
      if (n && size > limit) break;
      n++;
    }
    return queue.splice(0, n);
  }
  function url() {
    return cfg.apiHost.replace(/\/+$/, '') + '/v1/batch?writeKey=' + encodeURIComponent(cfg.writeKey);
  }
  function payload(events) {
    return JSON.stringify({ batch: events, sentAt: new Date().toISOString(), writeKey: cfg.writeKey });
  }
  function schedule(delay) {
    if (!timer) timer = setTimeout(() => { timer = null; flush(); }, delay);
  }
  function enqueue(event) {
    queue.push(event);
    storeAdd([event]);
    if (queue.length >= cfg.flushAt) flush(); else schedule(cfg.flushInterval);
  }

  function flush() {
    if (!cfg.writeKey || inflight || !queue.length) return Promise.resolve();
    clearTimeout(timer);
    timer = null;
    inflight = true;
    const events = take(FETCH_BYTES);
    const body = payload(events);
    return fetch(url(), {
      method: 'POST', body, headers: { 'Content-Type': 'text/plain' }, credentials: 'omit', keepalive: bytes(body) < BEACON_BYTES,
    }).then((res) => res, () => null).then((res) => {
      inflight = false;
      const status = res ? res.status : 0;
      if (status && status < 500 && status !== 429) {
        // Accepted, or refused for good (4xx): either way these events are done.
        if (status >= 300) console.warn('tessera: the server refused ' + events.length + ' events (HTTP ' + status + ')');
        tries = 0;
        storeRemove(events);
        if (queue.length) schedule(queue.length >= cfg.flushAt ? 0 : cfg.flushInterval);
        return;
      }
      queue = events.concat(queue); // network error, 429 or 5xx: back off and retry
      tries++;
      if (tries < MAX_TRIES) {
        const retryAfter = res && Number(res.headers.get('Retry-After'));
        schedule(Math.max(1000 * Math.pow(2, tries - 1), (retryAfter || 0) * 1000));
      } else {
        tries = 0; // give up for now: the next call or the next page load sends them again
      }
    });
  }

  // The page is going away: hand what is left to the browser with sendBeacon (it survives unload).
  function flushOnHide() {
    clearTimeout(timer);
    timer = null;
    if (!cfg.writeKey || !queue.length) return;
    if (!navigator.sendBeacon) { flush(); return; }
    const failing = tries > 0;
    while (queue.length) {
      const events = take(BEACON_BYTES);
      const body = payload(events);
      let sent = false;
      try { sent = bytes(body) <= BEACON_BYTES && navigator.sendBeacon(url(), new Blob([body], { type: 'text/plain' })); } catch (e) { /* ignore */ }
      if (!sent) { queue = events.concat(queue); return; } // left in localStorage for the next page
      // A beacon reports no result; while the server is failing keep the events for the next page too
      // (messageId makes the duplicate harmless).
      if (!failing) storeRemove(events);
    }
  }

  // ---- the API ----
  function message(type, fields, options) {
    options = isObject(options) ? options : {};
    const event = Object.assign({
      type,
      messageId: uuid(),
      anonymousId,
      timestamp: new Date(options.timestamp || Date.now()).toISOString(),
      context: context(options.context),
      integrations: options.integrations || {},
    }, fields);
    if (userId && !event.userId) event.userId = userId;
    enqueue(event);
  }

  function page(...args) {
    const names = [];
    while (args.length && names.length < 2 && (typeof args[0] === 'string' || args[0] == null)) names.push(args.shift());
    const name = names.length === 2 ? names[1] : names[0];
    const category = names.length === 2 ? names[0] : null;
    const properties = Object.assign(pageInfo(), isObject(args[0]) ? args[0] : {});
    if (name) properties.name = name;
    if (category) properties.category = category;
    message('page', { name: name || undefined, category: category || undefined, properties }, args[1]);
  }

  function track(event, properties, options) {
    if (typeof event !== 'string' || !event) throw new TypeError('tessera.track needs an event name');
    message('track', { event, properties: isObject(properties) ? properties : {} }, options);
  }

  function identify(id, newTraits, options) {
    if (isObject(id)) { options = newTraits; newTraits = id; id = null; }
    if (id != null && String(id) !== userId) {
      userId = String(id);
      remember(K.user, userId);
    }
    traits = Object.assign({}, traits, isObject(newTraits) ? newTraits : {});
    setItem('localStorage', K.traits, JSON.stringify(traits));
    message('identify', { traits }, options);
  }

  function alias(newId, previousId, options) {
    if (isObject(previousId)) { options = previousId; previousId = null; }
    if (newId == null || newId === '') throw new TypeError('tessera.alias needs the new user id');
    const previous = previousId || userId || anonymousId;
    userId = String(newId);
    remember(K.user, userId);
    message('alias', { userId, previousId: String(previous) }, options);
  }

  // Forget the user (log-out): a new anonymousId, no userId, no traits.
  function reset() {
    userId = null;
    traits = {};
    anonymousId = uuid();
    remember(K.user, null);
    setItem('localStorage', K.traits, null);
    remember(K.anon, anonymousId);
  }

  let started = false;
  let pageDone = false;
  function autoPage() {
    if (cfg.autoPage && !pageDone) page();
    pageDone = true;
  }

  const readyCallbacks = [];
  function ready(fn) { if (cfg.writeKey) setTimeout(fn, 0); else readyCallbacks.push(fn); }

  // Configuration from tessera.load(writeKey, options) or the script's data-* attributes.
  function load(writeKey, options) {
    options = options || {};
    if (!writeKey) return;
    cfg.writeKey = String(writeKey);
    Object.keys(cfg).forEach((k) => {
      if (k === 'writeKey' || options[k] == null || options[k] === '') return;
      const v = options[k];
      cfg[k] = typeof cfg[k] === 'number' ? Number(v) || cfg[k] : typeof cfg[k] === 'boolean' ? v !== false && v !== 'false' : String(v);
    });
    if (started) autoPage();
    if (queue.length) schedule(0);
    readyCallbacks.splice(0).forEach((fn) => setTimeout(fn, 0));
  }

  const api = {
    __tessera: true,
    VERSION,
    load, page, track, identify, alias, reset, ready, flush,
    user: () => ({ anonymousId, userId, traits: Object.assign({}, traits) }),
    push: (call) => api[call[0]].apply(api, call.slice(1)), // for code that still holds the stub
  };

  // ---- start ----
  const script = doc.currentScript || doc.querySelector('script[src*="tag.js"][data-write-key]') ||
    doc.querySelector('script[src*="tag.js"]');
  const calls = Array.isArray(stub) ? stub.slice() : [];
  const loadCall = calls.find((c) => c && c[0] === 'load');
  if (loadCall) {
    load(loadCall[1], loadCall[2]);
  } else if (script && script.dataset.writeKey) {
    const d = script.dataset;
    let origin = '';
    try { origin = new URL(script.src, location.href).origin; } catch (e) { /* ignore */ }
    load(d.writeKey, {
      apiHost: d.apiHost || origin, autoPage: d.autoPage, flushAt: d.flushAt, flushInterval: d.flushInterval,
      cookieDomain: d.cookieDomain,
    });
  }
  queue = stored(); // events an earlier page could not send
  win.tessera = api;
  calls.forEach((c) => {
    if (!c || c[0] === 'load' || typeof api[c[0]] !== 'function') return;
    pageDone = pageDone || c[0] === 'page';
    try { api[c[0]].apply(api, c.slice(1)); } catch (e) { console.warn('tessera:', e); }
  });
  started = true;
  if (cfg.writeKey) autoPage(); // else when tessera.load() is called
  if (queue.length) schedule(cfg.flushInterval);

  doc.addEventListener('visibilitychange', () => { if (doc.visibilityState === 'hidden') flushOnHide(); });
  win.addEventListener('pagehide', flushOnHide);
})(window, document);
