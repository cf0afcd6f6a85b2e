// (e) Delivery: one image at a time, next on load/error/timeout; whenCommitted immediate and queued;
// deliverOnPageHide.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULTS, VARIANTS, loadTracker } from './fake-browser.mjs';

const manual = { ...DEFAULTS, autoPageViewEvent: false };

for (const [variant, file] of VARIANTS) {
  describe(`delivery queue (${variant})`, () => {
    it('sends one 1x1 image at a time; the next on load, error or the event timeout', () => {
      const page = loadTracker({ file, config: manual });
      page.divolte.signal('a');
      page.divolte.signal('b');
      page.divolte.signal('c');
      page.divolte.signal('d');
      assert.deepEqual(page.events.map((e) => e.params.t), ['a']);
      assert.deepEqual([page.images[0].width, page.images[0].height], [1, 1]);
      page.images[0].load();
      assert.deepEqual(page.events.map((e) => e.params.t), ['a', 'b']);
      page.images[1].fail();
      assert.deepEqual(page.events.map((e) => e.params.t), ['a', 'b', 'c']);
      page.tick(749);
      assert.equal(page.images.length, 3);
      page.tick(1);
      assert.deepEqual(page.events.map((e) => e.params.t), ['a', 'b', 'c', 'd']);
      page.images[2].load(); // late load of a timed-out image changes nothing
      assert.equal(page.images.length, 4);
    });

    it('uses the configured event timeout', () => {
      const page = loadTracker({ file, config: { ...manual, eventTimeoutSeconds: 15 } });
      page.divolte.signal('a');
      page.divolte.signal('b');
      page.tick(14999);
      assert.equal(page.images.length, 1);
      page.tick(1);
      assert.equal(page.images.length, 2);
    });

    it('whenCommitted runs at once, synchronously, when nothing is pending', () => {
      const page = loadTracker({ file, config: manual });
      let calls = 0;
      page.divolte.whenCommitted(() => calls++);
      assert.equal(calls, 1);
      page.divolte.signal('a');
      page.images[0].load();
      page.divolte.whenCommitted(() => calls++, 1000);
      assert.equal(calls, 2);
    });

    it('whenCommitted waits for the events signalled before it, in order', () => {
      const page = loadTracker({ file, config: manual });
      const order = [];
      page.divolte.signal('a');
      page.divolte.signal('b');
      page.divolte.whenCommitted(() => order.push(`committed after ${page.images.length}`));
      page.divolte.signal('c');
      assert.deepEqual(order, []);
      page.images[0].load();
      assert.deepEqual(order, []);
      page.images[1].load();
      assert.deepEqual(order, ['committed after 2']);
      assert.equal(page.images.length, 3, 'the queue continues after the callback');
    });

    it('whenCommitted runs on its timeout if the events take longer, and only once', () => {
      const page = loadTracker({ file, config: { ...manual, eventTimeoutSeconds: 10 } });
      let calls = 0;
      page.divolte.signal('a');
      page.divolte.whenCommitted(() => calls++, 100);
      page.tick(99);
      assert.equal(calls, 0);
      page.tick(1);
      assert.equal(calls, 1);
      page.images[0].load();
      assert.equal(calls, 1);
    });

    it('whenCommitted runs when the events complete before its timeout, and only once', () => {
      const page = loadTracker({ file, config: manual });
      let calls = 0;
      page.divolte.signal('a');
      page.divolte.whenCommitted(() => calls++, 100);
      page.images[0].load();
      assert.equal(calls, 1);
      page.tick(1000);
      assert.equal(calls, 1);
    });

    it('a throwing callback neither throws into whenCommitted nor stops the queue', () => {
      const page = loadTracker({ file, config: manual });
      assert.doesNotThrow(() => page.divolte.whenCommitted(() => { throw new Error('page bug'); }));
      page.divolte.signal('a');
      page.divolte.whenCommitted(() => { throw new Error('page bug'); });
      page.divolte.signal('b');
      assert.doesNotThrow(() => page.images[0].load());
      assert.equal(page.images.length, 2);
      // The error is re-thrown from a timer, so that the page's error reporting sees it.
      assert.throws(() => page.tick(0), /page bug/);
    });

    it('ignores a whenCommitted without a function', () => {
      const page = loadTracker({ file, config: manual });
      assert.equal(page.divolte.whenCommitted(), undefined);
      assert.equal(page.divolte.whenCommitted('nope', 5), undefined);
    });

    it('leaves queued events alone on page hide unless deliverOnPageHide', () => {
      const page = loadTracker({ file, config: manual, fetch: true });
      page.divolte.signal('a');
      page.divolte.signal('b');
      page.window.dispatch('pagehide', { persisted: false });
      assert.equal(page.fetches.length, 0);
      page.images[0].load();
      assert.equal(page.images.length, 2);
    });

    for (const trigger of ['pagehide', 'visibilitychange']) {
      it(`deliverOnPageHide sends the queued events with a keepalive GET fetch on ${trigger}`, () => {
        const page = loadTracker({ file, config: { ...manual, deliverOnPageHide: true }, fetch: true });
        page.divolte.signal('a');
        page.divolte.signal('b');
        let committed = false;
        page.divolte.whenCommitted(() => { committed = true; });
        page.divolte.signal('c');
        if (trigger === 'pagehide') {
          page.window.dispatch('pagehide', { persisted: false });
        } else {
          page.document.visibilityState = 'hidden';
          page.document.dispatch('visibilitychange');
        }
        assert.equal(page.images.length, 1, 'the image in flight stays in flight');
        assert.deepEqual(page.fetches.map((f) => new URL(f.url).searchParams.get('t')), ['b', 'c']);
        assert.ok(committed);
        assert.deepEqual({ ...page.fetches[0].init },
          { method: 'GET', keepalive: true, mode: 'no-cors', credentials: 'include' });
        assert.equal(page.fetches[0].url.split('?')[0], 'http://localhost:8290/csc-event');
        // While hidden, new events go out the same way; visible again, back to images.
        page.divolte.signal('d');
        assert.equal(page.fetches.length, 3);
        page.images[0].load();
        page.document.visibilityState = 'visible';
        page.document.dispatch('visibilitychange');
        page.window.dispatch('pageshow', { persisted: false });
        page.divolte.signal('e');
        assert.equal(page.fetches.length, 3);
        assert.equal(page.events.at(-1).params.t, 'e');
      });
    }

    it('deliverOnPageHide falls back to sendBeacon without fetch', () => {
      const page = loadTracker({ file, config: { ...manual, deliverOnPageHide: true }, sendBeacon: true });
      page.divolte.signal('a');
      page.divolte.signal('b');
      page.window.dispatch('pagehide', {});
      assert.equal(page.beacons.length, 1);
      assert.match(page.beacons[0].url, /^http:\/\/localhost:8290\/csc-event\?p=.*&t=b&x=/);
    });

    it('deliverOnPageHide falls back to an image when fetch throws or there is no keepalive API', () => {
      const throwing = loadTracker({
        file, config: { ...manual, deliverOnPageHide: true },
        globals: { fetch() { throw new TypeError('blocked'); } },
      });
      const bare = loadTracker({ file, config: { ...manual, deliverOnPageHide: true } });
      for (const page of [throwing, bare]) {
        page.divolte.signal('a');
        page.divolte.signal('b');
        page.window.dispatch('pagehide', {});
        assert.deepEqual(page.events.map((e) => e.params.t), ['a', 'b']);
      }
    });
  });
}
