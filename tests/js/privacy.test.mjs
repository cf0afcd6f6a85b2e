// (g) respectPrivacySignals: with Global Privacy Control or Do Not Track, nothing is sent and no
// cookie is read or written.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULTS, VARIANTS, loadTracker } from './fake-browser.mjs';

const respecting = { ...DEFAULTS, respectPrivacySignals: true, deliverOnPageHide: true, spaPageViews: true };

for (const [variant, file] of VARIANTS) {
  describe(`privacy signals (${variant})`, () => {
    const signals = [
      ['Global Privacy Control', { navigator: { globalPrivacyControl: true } }],
      ['navigator.doNotTrack', { navigator: { doNotTrack: '1' } }],
      ['window.doNotTrack', { globals: { doNotTrack: '1' } }],
    ];
    for (const [name, options] of signals) {
      it(`sends nothing and sets no cookies with ${name}`, () => {
        const page = loadTracker({ file, config: respecting, fetch: true, cookies: { _dvp: '0:i1t84hgy:p' }, ...options });
        assert.equal(page.divolte.signal('a', { b: 1 }), null);
        page.window.history.pushState(null, '', '/other');
        page.window.dispatch('pagehide', {});
        page.window.dispatch('pageshow', { persisted: true });
        let committed = 0;
        page.divolte.whenCommitted(() => committed++);
        assert.equal(committed, 1);
        assert.equal(page.images.length, 0);
        assert.equal(page.fetches.length, 0);
        assert.deepEqual(page.jar.writes, []);
        assert.equal(page.divolte.partyId, null);
        assert.equal(page.divolte.sessionId, null);
        assert.equal(page.divolte.pageViewId, null);
        assert.equal(page.divolte.isNewPartyId, false);
      });
    }

    it('tracks when the signals are off (doNotTrack "0", GPC false)', () => {
      const page = loadTracker({ file, config: respecting, navigator: { globalPrivacyControl: false, doNotTrack: '0' } });
      assert.equal(page.images.length, 1);
    });

    it('ignores the signals unless respectPrivacySignals is on (Divolte behaviour)', () => {
      const page = loadTracker({ file, navigator: { globalPrivacyControl: true, doNotTrack: '1' } });
      assert.equal(page.images.length, 1);
      assert.equal(page.jar.writes.length, 2);
    });
  });
}
