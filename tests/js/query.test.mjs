// (c) The query built by signal(): parameter order, omission of undefined values, base-36 numbers,
// encodeURIComponent encoding, identifiers, event ids, the n/f flags and the event URL.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { VARIANTS, loadTracker, referenceChecksum } from './fake-browser.mjs';

const ID = /^[A-Za-z0-9~_]{32}$/;

for (const [variant, file] of VARIANTS) {
  describe(`signal() query (${variant})`, () => {
    it('sends p s v e c n f l r i j k w h t u x in this order, numbers in base 36', () => {
      const page = loadTracker({ file, referrer: 'http://example.com/from?a=b', now: 1414499908146 });
      page.images[0].load();
      const id = page.divolte.signal('myEvent', { foo: 'hello' });
      const event = page.events[1];
      assert.equal(event.names, 'psvecnflrijkwhtux');
      assert.equal(event.path, 'http://localhost:8290/csc-event');
      assert.equal(event.params.e, id);
      assert.equal(event.params.c, 'i1t8q2b6');
      assert.equal(event.params.l, 'http://localhost:8290/');
      assert.equal(event.params.r, 'http://example.com/from?a=b');
      assert.deepEqual([event.params.i, event.params.j, event.params.k, event.params.w, event.params.h],
        ['1ak', 'sj', '2', 'um', 'qd']);
      assert.equal(event.params.t, 'myEvent');
      assert.equal(event.params.u, '(sfoo!hello!)');
      assert.equal(event.params.x, referenceChecksum(event.pairs));
    });

    it('encodes values with encodeURIComponent (spaces %20, + %2B, !~*\'() kept)', () => {
      const page = loadTracker({ file, config: { autoPageViewEvent: false } });
      page.divolte.signal("a b+c&d=e;f/g?h#i!~*'()é😀");
      const raw = page.images[0].src.match(/[?&]t=([^&]*)/)[1];
      assert.equal(raw, "a%20b%2Bc%26d%3De%3Bf%2Fg%3Fh%23i!~*'()%C3%A9%F0%9F%98%80");
      assert.match(page.images[0].src, /[?&]p=0%3A[0-9a-z]+%3A[A-Za-z0-9~_]{32}&/);
    });

    it('omits undefined values: no referrer, no screen, no devicePixelRatio, no viewport', () => {
      const page = loadTracker({
        file, screen: {}, devicePixelRatio: undefined, innerWidth: 0, innerHeight: 0,
        globals: { devicePixelRatio: undefined },
      });
      page.document.documentElement = {};
      page.document.body = {};
      page.divolte.signal('x');
      assert.equal(page.events[0].names, 'psvecnflwhtx');
      const bare = loadTracker({ file, screen: {}, globals: { devicePixelRatio: undefined } });
      bare.document.documentElement = {};
      bare.document.body = {};
      bare.images[0].load();
      bare.window.innerWidth = undefined;
      bare.window.innerHeight = undefined;
      bare.divolte.signal('x');
      assert.equal(bare.events[1].names, 'psvecnfltx');
    });

    it('falls back to the document size for the viewport', () => {
      const page = loadTracker({ file, innerWidth: 0, innerHeight: 0 });
      assert.equal(page.events[0].params.w, (1000).toString(36));
      assert.equal(page.events[0].params.h, (700).toString(36));
    });

    it('sends a fractional devicePixelRatio in base 36, as Divolte does (1.5 → 1.i)', () => {
      const page = loadTracker({ file, devicePixelRatio: 1.5 });
      assert.equal(page.events[0].params.k, '1.i');
    });

    it('returns null and sends nothing for a falsy type', () => {
      const page = loadTracker({ file, config: { autoPageViewEvent: false } });
      for (const type of ['', null, undefined, 0, false]) {
        assert.equal(page.divolte.signal(type, { a: 1 }), null);
      }
      assert.equal(page.images.length, 0);
      assert.equal(page.jar.writes.length, 0);
    });

    it('generates Divolte-format ids for a new visitor and flags n/f only on the first event', () => {
      const page = loadTracker({ file, now: 1414499908146 });
      const { divolte } = page;
      assert.match(divolte.partyId, /^0:i1t8q2b6:/);
      assert.match(divolte.partyId.split(':')[2], ID);
      assert.match(divolte.sessionId, /^0:i1t8q2b6:/);
      assert.notEqual(divolte.partyId, divolte.sessionId);
      assert.match(divolte.pageViewId.slice(2), ID);
      assert.ok(divolte.pageViewId.startsWith('0:'));
      assert.equal(divolte.isNewPartyId, true);
      assert.equal(divolte.isFirstInSession, true);
      assert.equal(divolte.isServerPageView, false);
      page.images[0].load();
      divolte.signal('second');
      const [first, second] = page.events;
      assert.equal(first.params.t, 'pageView');
      assert.deepEqual([first.params.n, first.params.f], ['t', 't']);
      assert.deepEqual([second.params.n, second.params.f], ['f', 'f']);
      assert.equal(first.params.p, divolte.partyId);
      assert.equal(first.params.s, divolte.sessionId);
      assert.equal(first.params.v, divolte.pageViewId);
      assert.equal(divolte.isNewPartyId, true, 'the exported flags keep their initial values');
    });

    it('flags only what was missing: known party, new session', () => {
      const page = loadTracker({ file, cookies: { _dvp: '0:i1t84hgy:known' } });
      assert.equal(page.divolte.partyId, '0:i1t84hgy:known');
      assert.deepEqual([page.events[0].params.n, page.events[0].params.f], ['f', 't']);
      assert.equal(page.divolte.isNewPartyId, false);
      assert.equal(page.divolte.isFirstInSession, true);
    });

    it('marks ids made without a secure random source with a trailing !', () => {
      const page = loadTracker({ file, crypto: false });
      assert.match(page.divolte.partyId.split(':')[2], /^[A-Za-z0-9~_]{32}!$/);
      assert.match(page.divolte.pageViewId, /^0:[A-Za-z0-9~_]{32}!$/);
    });

    it('counts event ids in hexadecimal from 0 per page view', () => {
      const page = loadTracker({ file });
      const ids = [page.events[0].params.e];
      for (let i = 1; i < 12; i++) {
        page.images[i - 1].load();
        ids.push(page.divolte.signal('e'));
      }
      const pv = page.divolte.pageViewId;
      assert.deepEqual(ids, [...Array(12).keys()].map((i) => pv + i.toString(16)));
    });

    it('uses the page-view id from the script URL fragment', () => {
      const page = loadTracker({ file, scriptSrc: 'https://t.example.com/x/divolte.js?v=2#serverPv' });
      assert.equal(page.divolte.pageViewId, 'serverPv');
      assert.equal(page.divolte.isServerPageView, true);
      assert.equal(page.events[0].params.v, 'serverPv');
      assert.equal(page.events[0].params.e, 'serverPv0');
      assert.equal(page.events[0].path, 'https://t.example.com/x/csc-event');
    });

    it('sends events to the directory the script was loaded from', () => {
      const page = loadTracker({ file, scriptSrc: 'https://cdn.example.com/a/b/divolte.js?x=/y/z' });
      assert.equal(page.events[0].path, 'https://cdn.example.com/a/b/csc-event');
    });

    it('sends String(type) for a non-string type', () => {
      const page = loadTracker({ file, config: { autoPageViewEvent: false } });
      page.divolte.signal(10);
      assert.equal(page.events[0].params.t, '10');
    });
  });
}
