// Page-view lifecycle: deferral while hidden, bfcache restores, SPA navigation.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULTS, VARIANTS, loadTracker } from './fake-browser.mjs';

const spa = { ...DEFAULTS, spaPageViews: true };

for (const [variant, file] of VARIANTS) {
  describe(`page views (${variant})`, () => {
    it('sends the pageView at once when visible', () => {
      const page = loadTracker({ file });
      assert.equal(page.events.length, 1);
      assert.equal(page.events[0].params.t, 'pageView');
      assert.equal(page.events[0].params.e, `${page.divolte.pageViewId}0`);
    });

    for (const state of ['hidden', 'prerender']) {
      it(`defers the pageView while the document is ${state}`, () => {
        const page = loadTracker({ file, visibilityState: state });
        assert.equal(page.images.length, 0);
        const pageViewId = page.divolte.pageViewId;
        page.document.dispatch('visibilitychange');
        assert.equal(page.images.length, 0);
        page.document.visibilityState = 'visible';
        page.document.dispatch('visibilitychange');
        assert.equal(page.events[0].params.t, 'pageView');
        assert.equal(page.events[0].params.v, pageViewId);
        page.images[0].load();
        page.document.visibilityState = 'hidden';
        page.document.dispatch('visibilitychange');
        page.document.visibilityState = 'visible';
        page.document.dispatch('visibilitychange');
        assert.equal(page.images.length, 1, 'only the first visibility starts a page view');
      });
    }

    it('starts the deferred page view before a custom event signalled while hidden', () => {
      const page = loadTracker({ file, visibilityState: 'hidden' });
      page.divolte.signal('early');
      page.images[0].load();
      assert.deepEqual(page.events.map((e) => e.params.t), ['pageView', 'early']);
      page.document.visibilityState = 'visible';
      page.document.dispatch('visibilitychange');
      assert.equal(page.images.length, 2);
    });

    it('starts a new page view when restored from the back/forward cache', () => {
      const page = loadTracker({ file });
      const first = page.divolte.pageViewId;
      page.images[0].load();
      page.window.dispatch('pageshow', { persisted: false });
      page.window.dispatch('pageshow', { persisted: true });
      assert.equal(page.images.length, 1, 'no pagehide before: not a restore');
      page.window.dispatch('pagehide', { persisted: true });
      page.window.dispatch('pageshow', { persisted: true });
      assert.equal(page.images.length, 2);
      const second = page.divolte.pageViewId;
      assert.notEqual(second, first);
      assert.equal(page.events[1].params.v, second);
      assert.equal(page.events[1].params.e, `${second}0`);
      assert.equal(page.events[1].params.t, 'pageView');
    });

    it('keeps a server page-view id and its counter across a bfcache restore', () => {
      const page = loadTracker({ file, scriptSrc: 'http://localhost:8290/divolte.js#srv' });
      page.images[0].load();
      page.window.dispatch('pagehide', { persisted: true });
      page.window.dispatch('pageshow', { persisted: true });
      assert.deepEqual(page.events.map((e) => e.params.e), ['srv0', 'srv1']);
      assert.equal(page.divolte.pageViewId, 'srv');
    });

    it('ignores history changes without spaPageViews (Divolte behaviour)', () => {
      const page = loadTracker({ file });
      page.images[0].load();
      page.window.history.pushState({}, '', '/next');
      page.window.dispatch('popstate', {});
      assert.equal(page.images.length, 1);
    });

    it('starts a page view on pushState, replaceState and popstate that change the URL', () => {
      const page = loadTracker({ file, config: spa, referrer: 'https://search.example/' });
      const { history } = page.window;
      const ids = [page.divolte.pageViewId];
      page.images[0].load();
      history.pushState({ a: 1 }, '', '/one');
      assert.equal(page.events[1].params.l, 'http://localhost:8290/one');
      assert.equal(page.events[1].params.r, 'http://localhost:8290/');
      ids.push(page.divolte.pageViewId);
      page.images[1].load();
      history.replaceState({ a: 2 }, '');
      history.pushState({ a: 3 }, '', '/one');
      assert.equal(page.images.length, 2, 'no URL change, no page view');
      history.replaceState(null, '', '/two?q=1');
      ids.push(page.divolte.pageViewId);
      page.images[2].load();
      page.window.location.href = 'http://localhost:8290/one';
      page.window.dispatch('popstate', { state: null });
      ids.push(page.divolte.pageViewId);
      assert.equal(new Set(ids).size, 4);
      assert.deepEqual(page.events.map((e) => e.params.t), ['pageView', 'pageView', 'pageView', 'pageView']);
      assert.deepEqual(page.events.map((e) => e.params.e), ids.map((id) => `${id}0`));
      assert.equal(page.events[0].params.r, 'https://search.example/');
      assert.equal(page.events[3].params.r, 'http://localhost:8290/two?q=1');
      assert.equal(history.entries.length, 4, 'the original history methods still run');
    });

    it('passes history errors through unchanged', () => {
      const page = loadTracker({
        file, config: spa,
        before: 'history.pushState = function () { throw new Error("SecurityError"); };',
      });
      assert.throws(() => page.window.history.pushState(null, '', 'https://elsewhere/'), /SecurityError/);
    });
  });
}
