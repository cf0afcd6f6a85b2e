// A minimal fake browser for running divolte.js in a node:vm context: window/document/navigator,
// a cookie jar that records every write, Image objects that record their src, controllable timers and
// clock, event listeners that tests can dispatch to. Tests observe the tracker only through these.

import { readFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';
import { injectConfig } from '../../static/inject.mjs';

const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = join(here, '..', '..');
export const SOURCE_PATH = join(repoRoot, 'static', 'divolte.js');
export const BUILT_PATH = join(repoRoot, 'collector', 'resources', 'divolte.min.js');
export const DEFAULTS = JSON.parse(readFileSync(join(repoRoot, 'static', 'divolte.config.defaults.json'), 'utf8'));

/** The tracker variants every behaviour test runs against: the source and the committed build. */
export const VARIANTS = [['source', SOURCE_PATH]];
if (existsSync(BUILT_PATH)) {
  VARIANTS.push(['built', BUILT_PATH]);
}

/** Divolte's test vectors, as the Python tests read them (tests/data/test-vectors.json). */
export function loadVectors() {
  return JSON.parse(readFileSync(join(repoRoot, 'tests', 'data', 'test-vectors.json'), 'utf8'));
}

/** Splits an event URL into its path and the decoded parameters, in order. */
export function parseEventUrl(url) {
  const [path, query = ''] = url.split('?');
  const pairs = query.split('&').filter(Boolean).map((item) => {
    const eq = item.indexOf('=');
    return eq < 0 ? [item, ''] : [item.slice(0, eq), decodeURIComponent(item.slice(eq + 1))];
  });
  return { path, query, pairs, params: Object.fromEntries(pairs), names: pairs.map(([k]) => k).join('') };
}

class CookieJar {
  constructor(initial) {
    this.values = new Map(Object.entries(initial || {}));
    this.writes = [];
  }

  get header() {
    return [...this.values].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  write(text) {
    this.writes.push(text);
    const [pair, ...attributes] = text.split(';').map((s) => s.trim());
    const eq = pair.indexOf('=');
    const maxAge = attributes.find((a) => /^max-age=/i.test(a));
    if (maxAge && Number(maxAge.split('=')[1]) <= 0) {
      this.values.delete(pair.slice(0, eq));
    } else {
      this.values.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
  }
}

class EventTargetFake {
  constructor() {
    this.listeners = {};
  }

  addEventListener(type, listener) {
    (this.listeners[type] ||= []).push(listener);
  }

  dispatch(type, event = {}) {
    for (const listener of this.listeners[type] || []) {
      listener.call(this, { type, ...event });
    }
  }
}

/**
 * Loads the tracker into a fresh context.
 * options: file, config (injected as is, default: the defaults file; {} tests the built-in defaults), scriptSrc,
 * currentScript (false: none, scripts list used), scripts (srcs of <script> elements), cookies,
 * href, referrer, visibilityState, navigator (extra properties), now, crypto (false: none),
 * screen, devicePixelRatio, innerWidth, innerHeight, before (code run in the context first),
 * globals (extra globals), fetch, sendBeacon, cookieAccess (false: document.cookie throws).
 */
export function loadTracker(options = {}) {
  const file = options.file || SOURCE_PATH;
  const config = 'config' in options ? options.config : { ...DEFAULTS };
  const scriptSrc = options.scriptSrc ?? 'http://localhost:8290/divolte.js';
  const jar = new CookieJar(options.cookies);
  const images = [];
  const fetches = [];
  const beacons = [];
  const logs = [];
  const timers = [];
  const clock = { now: options.now ?? 1414499908146, nextId: 1 };

  const document = new EventTargetFake();
  const denied = () => {
    throw new Error('SecurityError: cookies are disabled in this sandboxed frame');
  };
  Object.defineProperty(document, 'cookie', {
    configurable: true,
    get: options.cookieAccess === false ? denied : () => jar.header,
    set: options.cookieAccess === false ? denied : (text) => jar.write(text),
  });
  document.referrer = options.referrer ?? '';
  document.visibilityState = options.visibilityState ?? 'visible';
  document.currentScript = options.currentScript === false ? null : { src: scriptSrc };
  const scriptElements = (options.scripts || [scriptSrc]).map((src) => ({ src }));
  document.getElementsByTagName = (name) => (name === 'script' ? scriptElements : []);
  document.documentElement = { clientWidth: 1000, clientHeight: 700 };
  document.body = { clientWidth: 990, clientHeight: 690 };

  const window = new EventTargetFake();
  const history = {
    entries: [],
    pushState(state, title, url) {
      if (url !== undefined) window.location.href = new URL(url, window.location.href).href;
      this.entries.push(['push', url]);
    },
    replaceState(state, title, url) {
      if (url !== undefined) window.location.href = new URL(url, window.location.href).href;
      this.entries.push(['replace', url]);
    },
  };
  class Image {
    constructor(width, height) {
      this.width = width;
      this.height = height;
      this.onload = null;
      this.onerror = null;
      images.push(this);
    }

    set src(url) {
      this._src = url;
    }

    get src() {
      return this._src;
    }

    load() {
      if (this.onload) this.onload({ type: 'load' });
    }

    fail() {
      if (this.onerror) this.onerror({ type: 'error' });
    }
  }
  Object.assign(window, {
    document,
    location: { href: options.href ?? 'http://localhost:8290/' },
    history,
    navigator: { userAgent: 'fake', ...(options.navigator || {}) },
    screen: options.screen ?? { availWidth: 1676, availHeight: 1027 },
    devicePixelRatio: options.devicePixelRatio ?? 2,
    innerWidth: options.innerWidth ?? 1102,
    innerHeight: options.innerHeight ?? 949,
    Image,
    console: { log: (...args) => logs.push(args.map(String).join(' ')) },
    setTimeout(fn, ms = 0) {
      const timer = { id: clock.nextId++, at: clock.now + Math.max(0, Number(ms) || 0), fn };
      timers.push(timer);
      return timer.id;
    },
    clearTimeout(id) {
      const index = timers.findIndex((t) => t.id === id);
      if (index >= 0) timers.splice(index, 1);
    },
    __clock: clock,
  });
  if (options.crypto !== false) {
    let state = options.seed ?? 0x9e3779b9; // xorshift32: deterministic, no repeats in a test's ids
    window.crypto = {
      getRandomValues(array) {
        for (let i = 0; i < array.length; i++) {
          state ^= state << 13;
          state ^= state >>> 17;
          state ^= state << 5;
          array[i] = state & 255;
        }
        return array;
      },
    };
  }
  if (options.fetch) {
    window.fetch = (url, init) => {
      fetches.push({ url, init });
      return Promise.resolve({});
    };
  }
  if (options.sendBeacon) {
    window.navigator.sendBeacon = (url, data) => {
      beacons.push({ url, data });
      return true;
    };
  }
  Object.assign(window, options.globals || {});
  window.window = window;

  const context = vm.createContext(window);
  vm.runInContext(`(() => {
    const RealDate = Date;
    globalThis.Date = class extends RealDate {
      constructor(...args) { if (args.length) super(...args); else super(__clock.now); }
      static now() { return __clock.now; }
    };
  })();`, context);
  if (options.before) {
    vm.runInContext(options.before, context);
  }

  const source = readFileSync(file, 'utf8');
  const code = injectConfig(source, config);
  const run = () => vm.runInContext(code, context, { filename: file });
  run();

  /** Advances the fake clock by ms, running the timers that come due, in order. */
  function tick(ms) {
    const until = clock.now + ms;
    for (;;) {
      const due = timers.filter((t) => t.at <= until).sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (!due) break;
      timers.splice(timers.indexOf(due), 1);
      clock.now = Math.max(clock.now, due.at);
      due.fn();
    }
    clock.now = until;
  }

  return {
    context,
    window,
    document,
    jar,
    images,
    fetches,
    beacons,
    logs,
    timers,
    clock,
    tick,
    run,
    get divolte() {
      return window.divolte;
    },
    /** Decoded events in the order their images were created. */
    get events() {
      return images.map((image) => parseEventUrl(image.src));
    },
    evaluate: (expression) => vm.runInContext(expression, context),
  };
}

/** An independent MurmurHash3 x86_32 (seed 0) over the UTF-8 bytes of text, as a signed int. */
export function referenceMurmur3(text) {
  const bytes = Buffer.from(text, 'utf8');
  const mul = (a, b) => Number((BigInt.asUintN(32, BigInt(a) * BigInt(b))));
  const rotl = (x, r) => ((x << r) | (x >>> (32 - r))) >>> 0;
  let h = 0;
  const blocks = Math.floor(bytes.length / 4) * 4;
  const mix = (k) => mul(rotl(mul(k, 0xcc9e2d51), 15), 0x1b873593);
  for (let i = 0; i < blocks; i += 4) {
    h = (h ^ mix(bytes.readUInt32LE(i))) >>> 0;
    h = (mul(rotl(h, 13), 5) + 0xe6546b64) >>> 0;
  }
  let k = 0;
  for (let i = bytes.length - 1; i >= blocks; i--) k = ((k << 8) | bytes[i]) >>> 0;
  if (bytes.length & 3) h = (h ^ mix(k)) >>> 0;
  h = (h ^ bytes.length) >>> 0;
  h = mul(h ^ (h >>> 16), 0x85ebca6b);
  h = mul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) | 0;
}

/** The canonical checksum string of SPEC §2.2 for decoded pairs (keys sorted, x skipped). */
export function canonicalString(pairs) {
  const byKey = new Map();
  for (const [k, v] of pairs) {
    if (k !== 'x') byKey.set(k, [...(byKey.get(k) || []), v]);
  }
  return [...byKey.keys()].sort().map((k) => `${k}=${byKey.get(k).map((v) => `${v},`).join('')};`).join('');
}

export function referenceChecksum(pairs) {
  return referenceMurmur3(canonicalString(pairs)).toString(36);
}
