/*
 * divolte.js: the browser tracker of the Python Divolte-compatible collector.
 *
 * Written from the wire contract (SPEC.md section 3); API- and wire-compatible with Divolte's tracker:
 * the same cookies, identifiers, query parameters, checksum and custom-parameter encoding (mincode),
 * and the same public API (window.divolte). ES5 only, so it runs on old browsers too.
 *
 * Configuration: the server replaces the undeclared identifier on the "var config" line below (the only
 * occurrence of that name in this file) with a JSON object literal, non-ASCII characters escaped.
 * Missing keys take the defaults in parentheses, the same as in static/divolte.config.defaults.json.
 *
 *   partyCookie            ("_dvp")       name of the party cookie
 *   partyTimeoutSeconds    (63072000)     party cookie lifetime, sliding (re-set on every event)
 *   sessionCookie          ("_dvs")       name of the session cookie
 *   sessionTimeoutSeconds  (1800)         session cookie lifetime, sliding
 *   cookieDomain           (null)         domain attribute of both cookies; null: none (host-only)
 *   logging                (false)        log to the console what is sent
 *   scriptName             ("divolte.js") file name used to find our own <script> element
 *   eventSuffix            ("csc-event")  events go to <directory of this script> + eventSuffix
 *   autoPageViewEvent      (true)         send a "pageView" event for every page view
 *   eventTimeoutSeconds    (0.75)         how long one event may block the next one in the queue
 *   cookieSameSite         ("Lax")        SameSite attribute: "Lax", "Strict", "None" (implies Secure,
 *                                         which browsers require for it) or "" to omit the attribute
 *   cookieSecure           (false)        add the Secure attribute to both cookies
 *   deliverOnPageHide      (false)        when the page is hidden or unloaded, send the events still
 *                                         queued (and later ones) with fetch(keepalive), not an image
 *   spaPageViews           (false)        history.pushState/replaceState that change the URL, and
 *                                         popstate to another URL, start a new page view
 *   respectPrivacySignals  (false)        with Global Privacy Control or Do Not Track on, send nothing,
 *                                         touch no cookies; ids are null and signal() returns null
 */
(function (window, document, undefined) {
  'use strict';

  var config = __DIVOLTE_CONFIG__;

  /** A setting from the injected configuration, or its default when absent (or null). */
  function setting(name, fallback) {
    var value = config ? config[name] : undefined;
    return value == null ? fallback : value;
  }

  var PARTY_COOKIE = setting('partyCookie', '_dvp');
  var PARTY_TIMEOUT_SECONDS = setting('partyTimeoutSeconds', 63072000);
  var SESSION_COOKIE = setting('sessionCookie', '_dvs');
  var SESSION_TIMEOUT_SECONDS = setting('sessionTimeoutSeconds', 1800);
  var COOKIE_DOMAIN = setting('cookieDomain', '');
  var LOGGING = setting('logging', false);
  var SCRIPT_NAME = setting('scriptName', 'divolte.js');
  var EVENT_SUFFIX = setting('eventSuffix', 'csc-event');
  var AUTO_PAGE_VIEW_EVENT = setting('autoPageViewEvent', true);
  var EVENT_TIMEOUT_MS = setting('eventTimeoutSeconds', 0.75) * 1000;
  var COOKIE_SAME_SITE = setting('cookieSameSite', 'Lax');
  var COOKIE_SECURE = setting('cookieSecure', false) || /^none$/i.test(COOKIE_SAME_SITE);
  var DELIVER_ON_PAGE_HIDE = setting('deliverOnPageHide', false);
  var SPA_PAGE_VIEWS = setting('spaPageViews', false);
  var RESPECT_PRIVACY_SIGNALS = setting('respectPrivacySignals', false);

  /* Divolte's id alphabet; note "wxzy", not "wxyz". */
  var ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxzy0123456789~_';
  var INIT_ERROR = 'Divolte could not initialize itself';

  var existing = window.divolte;
  if (existing && typeof existing == 'object') {
    return;
  }

  function log(message, detail) {
    var console = window.console;
    if (LOGGING && console && console.log) {
      if (detail === undefined) {
        console.log('[divolte] ' + message);
      } else {
        console.log('[divolte] ' + message, detail);
      }
    }
  }

  /** Wraps fn so that an error inside the tracker never reaches the page: it is logged, fallback returned. */
  function guard(fn, fallback) {
    return function () {
      try {
        return fn.apply(this, arguments);
      } catch (error) {
        log('internal error', error);
        return fallback;
      }
    };
  }

  function now() {
    return new Date().getTime();
  }

  function listen(target, type, handler) {
    if (target && target.addEventListener) {
      target.addEventListener(type, guard(handler), false);
    }
  }

  /* ---------------------------------------------------------------- self-location */

  function stripQuery(url) {
    return url.split(/[?#]/)[0];
  }

  /* Our own URL: document.currentScript, else the one <script> whose file name is SCRIPT_NAME. */
  var current = document.currentScript;
  var scriptUrl = current && current.src;
  if (!scriptUrl) {
    var scripts = document.getElementsByTagName('script');
    var matches = [];
    for (var s = scripts.length - 1; s >= 0; s--) {
      var path = stripQuery(scripts[s].src || '');
      if (path.substring(path.lastIndexOf('/') + 1) === SCRIPT_NAME) {
        matches.push(scripts[s].src);
      }
    }
    if (matches.length !== 1) {
      throw new Error(INIT_ERROR);
    }
    scriptUrl = matches[0];
  }
  var scriptPath = stripQuery(scriptUrl);
  var eventUrl = scriptPath.substring(0, scriptPath.lastIndexOf('/') + 1) + EVENT_SUFFIX + '?';

  /* A page-view id supplied by the server as the fragment: <script src="/divolte.js#PAGEVIEWID">. */
  var hashAt = scriptUrl.indexOf('#');
  var serverPageViewId = hashAt < 0 ? '' : scriptUrl.substring(hashAt + 1);
  if (serverPageViewId.indexOf('/') >= 0) {
    throw new Error(INIT_ERROR);
  }

  /* ---------------------------------------------------------------- identifiers */

  var scriptLoadTime = now();

  /** 32 characters of ID_ALPHABET from a secure random source; without one, Math.random and a '!' mark. */
  function randomDigits() {
    var crypto = window.crypto || window.msCrypto;
    var bytes = null;
    var digits = '';
    try {
      bytes = new Uint8Array(32);
      crypto.getRandomValues(bytes);
    } catch (noSecureRandom) {
      bytes = null;
    }
    for (var i = 0; i < 32; i++) {
      digits += ID_ALPHABET.charAt((bytes ? bytes[i] : Math.random() * 256) & 63);
    }
    return bytes ? digits : digits + '!';
  }

  /** Party and session ids are "0:<load time, base 36>:<digits>"; page-view ids are "0:<digits>". */
  function generateId(withTimestamp) {
    return '0:' + (withTimestamp ? scriptLoadTime.toString(36) + ':' : '') + randomDigits();
  }

  /* ---------------------------------------------------------------- cookies */

  function readCookie(name) {
    var cookies;
    try {
      cookies = document.cookie.split(';');
    } catch (noCookieAccess) {
      return null;
    }
    for (var i = 0; i < cookies.length; i++) {
      var cookie = cookies[i].replace(/^\s+/, '');
      var eq = cookie.indexOf('=');
      if (eq > 0 && cookie.substring(0, eq) === name) {
        var value = cookie.substring(eq + 1);
        /* Only a well-formed Divolte identifier is kept: anything else would be dropped by the server. */
        return /^0:[+-]?[0-9a-z]+:[^:]*$/i.test(value) ? value : null;
      }
    }
    return null;
  }

  function writeCookie(name, value, timeoutSeconds, timestamp) {
    var cookie = name + '=' + value + '; path=/; expires=' +
      new Date(timestamp + timeoutSeconds * 1000).toUTCString() + '; max-age=' + timeoutSeconds;
    if (COOKIE_DOMAIN) {
      cookie += '; domain=' + COOKIE_DOMAIN;
    }
    if (COOKIE_SAME_SITE) {
      cookie += '; SameSite=' + COOKIE_SAME_SITE;
    }
    if (COOKIE_SECURE) {
      cookie += '; Secure';
    }
    try {
      document.cookie = cookie;
    } catch (noCookieAccess) {
      log('cannot write cookie ' + name);
    }
  }

  /* ---------------------------------------------------------------- mincode (custom parameters) */

  /** A mincode string: '~' and '!' escaped with '~', terminated by '!'. */
  function mincodeString(text) {
    return text.replace(/[~!]/g, '~$&') + '!';
  }

  /**
   * The mincode record of value, named when inside an object (the name follows the record type);
   * undefined for what JSON leaves out (undefined, functions, symbols).
   */
  function mincode(value, name) {
    var named = name === undefined ? '' : mincodeString(name);
    if (value && typeof value.toJSON == 'function') {
      value = value.toJSON(name === undefined ? '' : name);
    }
    var type = typeof value;
    var record;
    var i;
    if (type == 'string') {
      return 's' + named + mincodeString(value);
    }
    if (type == 'boolean') {
      return (value ? 't' : 'f') + named;
    }
    if (type == 'number') {
      if (!isFinite(value)) {
        return 'n' + named;
      }
      var plain = String(value);
      var exponential = value.toExponential();
      var shortest = exponential.length < plain.length ? exponential : plain;
      var base36 = value.toString(36);
      return value % 1 === 0 && base36.length <= shortest.length ?
        'd' + named + base36 + '!' : 'j' + named + shortest + '!';
    }
    if (type == 'bigint') {
      return 'd' + named + value.toString(36) + '!';
    }
    if (type == 'object') {
      if (value === null) {
        return 'n' + named;
      }
      if (Array.isArray(value)) {
        record = 'a' + named;
        for (i = 0; i < value.length; i++) {
          record += mincode(value[i]) || 'n';
        }
        return record + '.';
      }
      record = '(' + named;
      var keys = Object.keys(value);
      for (i = 0; i < keys.length; i++) {
        record += mincode(value[keys[i]], keys[i]) || '';
      }
      return record + ')';
    }
    return undefined;
  }

  /* ---------------------------------------------------------------- checksum */

  var imul = Math.imul || function (a, b) {
    return ((a * (b >>> 16) << 16) + a * (b & 0xffff)) | 0;
  };

  function rotl(x, r) {
    return x << r | x >>> 32 - r;
  }

  function scrambleBlock(k) {
    return imul(rotl(imul(k, 0xcc9e2d51), 15), 0x1b873593);
  }

  /** MurmurHash3 x86_32 (seed 0) of a byte string (chars 0-255), as a signed 32-bit integer. */
  function murmur3(bytes) {
    var length = bytes.length;
    var blocks = length & ~3;
    var h = 0;
    var k;
    var i;
    for (i = 0; i < blocks; i += 4) {
      k = bytes.charCodeAt(i) | bytes.charCodeAt(i + 1) << 8 |
        bytes.charCodeAt(i + 2) << 16 | bytes.charCodeAt(i + 3) << 24;
      h = imul(rotl(h ^ scrambleBlock(k), 13), 5) + 0xe6546b64 | 0;
    }
    if (length & 3) {
      k = 0;
      for (i = (length & 3) - 1; i >= 0; i--) {
        k = k << 8 | bytes.charCodeAt(blocks + i);
      }
      h ^= scrambleBlock(k);
    }
    h ^= length;
    h = imul(h ^ h >>> 16, 0x85ebca6b);
    h = imul(h ^ h >>> 13, 0xc2b2ae35);
    return h ^ h >>> 16;
  }

  /**
   * Lone surrogates replaced by U+FFFD, as a browser's UTF-8 encoder does, so that encodeURIComponent
   * cannot throw and the checksum covers exactly the bytes the server decodes.
   */
  function wellFormed(text) {
    return text.replace(/[\uD800-\uDBFF][\uDC00-\uDFFF]|[\uD800-\uDFFF]/g, function (unit) {
      return unit.length > 1 ? unit : '\uFFFD';
    });
  }

  /* ---------------------------------------------------------------- delivery */

  var queue = [];
  var sending = false;
  var hiding = false;

  function deliver(url) {
    log('sending ' + url);
    if (DELIVER_ON_PAGE_HIDE && hiding) {
      beacon(url);
    } else {
      queue.push({url: url});
      pump();
    }
  }

  /** Processes the queue: one image request at a time; callbacks run when all before them are done. */
  function pump() {
    while (!sending && queue.length) {
      var item = queue.shift();
      if (item.url) {
        sending = true;
        sendImage(item.url);
      } else {
        item.callback();
      }
    }
  }

  function sendImage(url) {
    var image = new Image(1, 1);
    var timer;
    var done = false;
    function next() {
      if (!done) {
        done = true;
        clearTimeout(timer);
        image.onload = image.onerror = null;
        sending = false;
        pump();
      }
    }
    image.onload = image.onerror = guard(next);
    timer = setTimeout(guard(next), EVENT_TIMEOUT_MS);
    image.src = url;
  }

  /*
   * Delivery that survives the page going away. The event endpoint only answers GET (as Divolte's does),
   * and navigator.sendBeacon always POSTs, so a keepalive fetch with method GET comes first; it sends the
   * request like the image does (no-cors, with the collector's cookies). sendBeacon is the fallback only
   * where fetch is missing (its POST carries the same query; a server that refuses POST loses these few);
   * an image is the last resort.
   */
  function beacon(url) {
    var navigator = window.navigator;
    try {
      if (window.fetch) {
        window.fetch(url, {method: 'GET', keepalive: true, mode: 'no-cors', credentials: 'include'})
          .then(null, function () {});
        return;
      }
      if (navigator && navigator.sendBeacon && navigator.sendBeacon(url)) {
        return;
      }
    } catch (notSent) {
      log('cannot send with keepalive', notSent);
    }
    new Image(1, 1).src = url;
  }

  /** The page is being hidden or unloaded: everything still queued goes out at once. */
  function pageHiding() {
    hiding = true;
    if (DELIVER_ON_PAGE_HIDE) {
      while (queue.length) {
        var item = queue.shift();
        if (item.url) {
          beacon(item.url);
        } else {
          item.callback();
        }
      }
    }
  }

  /** Runs callback (at most once) when all events signalled before are delivered, or after timeoutMs. */
  function whenCommitted(callback, timeoutMs) {
    if (typeof callback != 'function') {
      return;
    }
    var called = false;
    function run() {
      if (!called) {
        called = true;
        try {
          callback();
        } catch (error) {
          /* The page's own error: reported to the page asynchronously, without stopping the queue. */
          setTimeout(function () {
            throw error;
          }, 0);
        }
      }
    }
    if (!sending && !queue.length) {
      run();
    } else {
      queue.push({callback: run});
      if (timeoutMs >= 0) {
        setTimeout(guard(run), timeoutMs);
      }
    }
  }

  /* ---------------------------------------------------------------- events */

  var privacyRequested = false;
  if (RESPECT_PRIVACY_SIGNALS) {
    var privacy = window.navigator || {};
    privacyRequested = privacy.globalPrivacyControl === true ||
      privacy.doNotTrack == '1' || window.doNotTrack == '1';
  }

  var partyId = privacyRequested ? null : readCookie(PARTY_COOKIE);
  var sessionId = privacyRequested ? null : readCookie(SESSION_COOKIE);
  var isNewPartyId = !privacyRequested && !partyId;
  var isFirstInSession = !privacyRequested && !sessionId;
  var isServerPageView = !!serverPageViewId;
  if (!privacyRequested) {
    partyId = partyId || generateId(true);
    sessionId = sessionId || generateId(true);
  }
  var pageViewId = privacyRequested ? null : serverPageViewId || generateId(false);
  var newPartyFlag = isNewPartyId;
  var firstInSessionFlag = isFirstInSession;
  var eventCounter = 0;
  var pageViewStarted = false;
  var pageViewUrl;
  var referrer = document.referrer;

  /* Parameter names in the order they are sent; x (the checksum) comes last. */
  var PARAMETER_NAMES = 'psvecnflrijkwhtu';

  function signal(type, params) {
    if (!type || privacyRequested) {
      return null;
    }
    if (!pageViewStarted) {
      startPageView(false);
    }
    var eventId = pageViewId + (eventCounter++).toString(16);
    var timestamp = now();
    var screen = window.screen || {};
    var root = document.documentElement || {};
    var body = document.body || {};
    var custom;
    if (params !== undefined) {
      try {
        custom = mincode(params);
      } catch (notEncodable) {
        log('cannot encode the parameters of ' + type, notEncodable);
      }
    }
    var values = [
      partyId,
      sessionId,
      pageViewId,
      eventId,
      timestamp,
      newPartyFlag ? 't' : 'f',
      firstInSessionFlag ? 't' : 'f',
      window.location.href,
      referrer || undefined,
      screen.availWidth,
      screen.availHeight,
      window.devicePixelRatio,
      window.innerWidth || root.clientWidth || body.clientWidth,
      window.innerHeight || root.clientHeight || body.clientHeight,
      String(type),
      custom
    ];
    var query = [];
    var pairs = [];
    for (var i = 0; i < values.length; i++) {
      var value = values[i];
      if (value != null) {
        value = wellFormed(typeof value == 'number' ? value.toString(36) : String(value));
        query.push(PARAMETER_NAMES.charAt(i) + '=' + encodeURIComponent(value));
        pairs.push([PARAMETER_NAMES.charAt(i), value]);
      }
    }
    /* Checksum: murmur3 of the sorted "name=value,;" string of the unencoded values, UTF-8. */
    pairs.sort(function (a, b) {
      return a[0] < b[0] ? -1 : 1;
    });
    var canonical = '';
    for (i = 0; i < pairs.length; i++) {
      canonical += pairs[i][0] + '=' + pairs[i][1] + ',;';
    }
    query.push('x=' + murmur3(unescape(encodeURIComponent(canonical))).toString(36));

    newPartyFlag = firstInSessionFlag = false;
    /* Sliding expiry: both cookies are re-set on every event, the session cookie first. */
    writeCookie(SESSION_COOKIE, sessionId, SESSION_TIMEOUT_SECONDS, timestamp);
    writeCookie(PARTY_COOKIE, partyId, PARTY_TIMEOUT_SECONDS, timestamp);

    log('event ' + type + ' ' + eventId, params);
    deliver(eventUrl + query.join('&'));
    return eventId;
  }

  /* ---------------------------------------------------------------- page views */

  var api = {
    partyId: partyId,
    sessionId: sessionId,
    pageViewId: pageViewId,
    isNewPartyId: isNewPartyId,
    isFirstInSession: isFirstInSession,
    isServerPageView: isServerPageView,
    signal: guard(signal, null),
    whenCommitted: guard(whenCommitted)
  };

  /** Starts a page view; a later one (fresh) gets a new id and counter, unless the server supplied the id. */
  function startPageView(fresh) {
    if (fresh && !isServerPageView && !privacyRequested) {
      api.pageViewId = pageViewId = generateId(false);
      eventCounter = 0;
    }
    pageViewStarted = true;
    pageViewUrl = window.location.href;
    if (AUTO_PAGE_VIEW_EVENT) {
      signal('pageView');
    }
  }

  function documentVisible() {
    var state = document.visibilityState;
    return !state || state == 'visible';
  }

  listen(document, 'visibilitychange', function () {
    if (documentVisible()) {
      hiding = false;
      if (!pageViewStarted) {
        startPageView(false);
      }
    } else {
      pageHiding();
    }
  });

  var pageHidden = false;
  listen(window, 'pagehide', function () {
    pageHidden = true;
    pageHiding();
  });
  listen(window, 'pageshow', function (event) {
    hiding = false;
    /* Restored from the back/forward cache: that is a new page view. */
    if (event && event.persisted && pageHidden) {
      pageHidden = false;
      startPageView(true);
    }
  });

  if (SPA_PAGE_VIEWS) {
    var urlChanged = function () {
      var url = window.location.href;
      if (pageViewStarted && url !== pageViewUrl) {
        referrer = pageViewUrl;
        startPageView(true);
      }
    };
    var history = window.history;
    var wrapHistory = function (method) {
      var original = history && history[method];
      if (typeof original == 'function') {
        history[method] = function () {
          var result = original.apply(this, arguments);
          guard(urlChanged)();
          return result;
        };
      }
    };
    wrapHistory('pushState');
    wrapHistory('replaceState');
    listen(window, 'popstate', urlChanged);
  }

  /* ---------------------------------------------------------------- export */

  /* global define, module */
  if (typeof define == 'function' && define.amd) {
    define(function () {
      return api;
    });
  } else if (typeof module == 'object' && module && module.exports) {
    module.exports = api;
  } else {
    window.divolte = api;
  }

  if (privacyRequested) {
    log('privacy signal present: not tracking');
  } else if (documentVisible()) {
    guard(startPageView)(false);
  }
})(window, document);
