// (f) The injected configuration: defaults, custom names and paths, auto page view, logging; self-location
// and the init error; the exported API and module systems.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULTS, VARIANTS, loadTracker } from './fake-browser.mjs';

const API_KEYS = ['partyId', 'sessionId', 'pageViewId', 'isNewPartyId', 'isFirstInSession',
  'isServerPageView', 'signal', 'whenCommitted'];

/** What a page load does with a given config, minus the random parts: URLs, cookies written. */
function observable(page) {
  return {
    urls: page.images.map((i) => i.src.replace(/=[^&]*(?=&|$)/g, (m) => (m.length > 20 ? '=…' : m))),
    cookies: page.jar.writes.map((c) => c.replace(/=0:[^;]*/, '=…')),
  };
}

for (const [variant, file] of VARIANTS) {
  describe(`configuration (${variant})`, () => {
    it('has built-in defaults equal to static/divolte.config.defaults.json', () => {
      for (const config of [{}, null]) {
        const builtIn = loadTracker({ file, config });
        const fromFile = loadTracker({ file, config: DEFAULTS });
        for (const page of [builtIn, fromFile]) {
          page.divolte.signal('a', { b: 1 });
          page.tick(750);
        }
        assert.deepEqual(observable(builtIn), observable(fromFile));
      }
    });

    it('uses a custom event suffix, relative to the script', () => {
      const page = loadTracker({
        file, scriptSrc: 'https://example.com/tracking/divolte.js', config: { ...DEFAULTS, eventSuffix: 'ev' },
      });
      assert.equal(page.events[0].path, 'https://example.com/tracking/ev');
    });

    it('finds itself by scriptName when document.currentScript is missing', () => {
      const page = loadTracker({
        file,
        currentScript: false,
        config: { ...DEFAULTS, scriptName: 'tracker.js' },
        scripts: ['https://example.com/app.js', 'https://example.com/x/tracker.js?v=1#pv1',
          'https://example.com/y/not-tracker.js'],
      });
      assert.equal(page.events[0].path, 'https://example.com/x/csc-event');
      assert.equal(page.divolte.pageViewId, 'pv1');
    });

    it('throws its init error when it cannot find itself', () => {
      for (const scripts of [[], ['https://a/divolte.js', 'https://b/divolte.js'], ['https://a/other.js']]) {
        assert.throws(() => loadTracker({ file, currentScript: false, scripts }),
          /Divolte could not initialize itself/);
      }
    });

    it('throws its init error for a / in the page-view id fragment', () => {
      assert.throws(() => loadTracker({ file, scriptSrc: 'https://a/divolte.js#a/b' }),
        /Divolte could not initialize itself/);
    });

    it('sends no automatic pageView with autoPageViewEvent false', () => {
      const page = loadTracker({ file, config: { ...DEFAULTS, autoPageViewEvent: false } });
      assert.equal(page.images.length, 0);
      assert.equal(page.jar.writes.length, 0);
      const id = page.divolte.signal('first');
      assert.equal(id, `${page.divolte.pageViewId}0`);
      assert.deepEqual([page.events[0].params.n, page.events[0].params.f], ['t', 't']);
    });

    it('logs what it sends when logging is on, and nothing otherwise', () => {
      const quiet = loadTracker({ file });
      assert.deepEqual(quiet.logs, []);
      const loud = loadTracker({ file, config: { ...DEFAULTS, logging: true } });
      assert.ok(loud.logs.some((line) => line.includes(loud.images[0].src)), loud.logs.join('\n'));
    });

    it('exports the API on window.divolte', () => {
      const page = loadTracker({ file, cookies: { _dvp: '0:i1t84hgy:p' } });
      assert.deepEqual(Object.keys(page.divolte).sort(), [...API_KEYS].sort());
      assert.equal(typeof page.divolte.signal, 'function');
      assert.equal(typeof page.divolte.whenCommitted, 'function');
      assert.equal(page.divolte.partyId, '0:i1t84hgy:p');
    });

    it('is not initialised twice', () => {
      const page = loadTracker({ file });
      const first = page.divolte;
      page.run();
      assert.equal(page.divolte, first);
      assert.equal(page.images.length, 1);
    });

    it('does not initialise over an existing window.divolte object', () => {
      const page = loadTracker({ file, globals: { divolte: { mine: true } } });
      assert.deepEqual({ ...page.divolte }, { mine: true });
      assert.equal(page.images.length, 0);
    });

    it('defines an AMD module when define.amd is present', () => {
      const modules = [];
      const define = (factory) => modules.push(factory());
      define.amd = {};
      const page = loadTracker({ file, globals: { define } });
      assert.equal(page.divolte, undefined);
      assert.equal(modules.length, 1);
      assert.deepEqual(Object.keys(modules[0]).sort(), [...API_KEYS].sort());
    });

    it('sets module.exports under CommonJS', () => {
      const module = { exports: {} };
      const page = loadTracker({ file, globals: { module } });
      assert.equal(page.divolte, undefined);
      assert.deepEqual(Object.keys(module.exports).sort(), [...API_KEYS].sort());
    });
  });
}
