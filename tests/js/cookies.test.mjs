// (d) Cookies: read at start, written on every signal (session cookie first, then party) with path,
// expires, max-age, optional domain, SameSite and Secure.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULTS, VARIANTS, loadTracker } from './fake-browser.mjs';

const NOW = 1414499908146;
const utc = (seconds) => new Date(NOW + seconds * 1000).toUTCString();

for (const [variant, file] of VARIANTS) {
  describe(`cookies (${variant})`, () => {
    it('writes the session then the party cookie with the default attributes', () => {
      const page = loadTracker({ file, now: NOW });
      const { partyId, sessionId } = page.divolte;
      assert.deepEqual(page.jar.writes, [
        `_dvs=${sessionId}; path=/; expires=${utc(1800)}; max-age=1800; SameSite=Lax`,
        `_dvp=${partyId}; path=/; expires=${utc(63072000)}; max-age=63072000; SameSite=Lax`,
      ]);
      assert.equal(page.document.cookie, `_dvs=${sessionId}; _dvp=${partyId}`);
    });

    it('re-sets both cookies on every signal (sliding expiry)', () => {
      const page = loadTracker({ file, now: NOW, cookies: { _dvp: '0:i1t84hgy:p', _dvs: '0:i1t84hgy:s' } });
      page.tick(60000);
      page.images[0].load();
      page.divolte.signal('later');
      assert.equal(page.jar.writes.length, 4);
      const later = new Date(NOW + 60000 + 1800 * 1000).toUTCString();
      assert.equal(page.jar.writes[2], `_dvs=0:i1t84hgy:s; path=/; expires=${later}; max-age=1800; SameSite=Lax`);
      assert.match(page.jar.writes[3], /^_dvp=0:i1t84hgy:p; /);
    });

    it('adds domain, SameSite=Strict and Secure when configured', () => {
      const page = loadTracker({
        file, now: NOW,
        config: { ...DEFAULTS, cookieDomain: 'example.com', cookieSameSite: 'Strict', cookieSecure: true },
      });
      assert.equal(page.jar.writes[0],
        `_dvs=${page.divolte.sessionId}; path=/; expires=${utc(1800)}; max-age=1800; domain=example.com; SameSite=Strict; Secure`);
    });

    it('adds Secure for SameSite=None (browsers reject None without it)', () => {
      const page = loadTracker({ file, config: { ...DEFAULTS, cookieSameSite: 'None' } });
      assert.match(page.jar.writes[0], /; SameSite=None; Secure$/);
    });

    it('omits SameSite for an empty cookieSameSite (Divolte\'s cookies)', () => {
      const page = loadTracker({ file, now: NOW, config: { ...DEFAULTS, cookieSameSite: '' } });
      assert.equal(page.jar.writes[1], `_dvp=${page.divolte.partyId}; path=/; expires=${utc(63072000)}; max-age=63072000`);
    });

    it('uses custom cookie names and timeouts', () => {
      const page = loadTracker({
        file, now: NOW,
        cookies: { my_party: '0:i1t84hgy:mine', _dvp: '0:i1t84hgy:other' },
        config: { ...DEFAULTS, partyCookie: 'my_party', sessionCookie: 'my.session', partyTimeoutSeconds: 100, sessionTimeoutSeconds: 10 },
      });
      assert.equal(page.divolte.partyId, '0:i1t84hgy:mine');
      assert.equal(page.divolte.isNewPartyId, false);
      assert.deepEqual(page.jar.writes, [
        `my.session=${page.divolte.sessionId}; path=/; expires=${utc(10)}; max-age=10; SameSite=Lax`,
        `my_party=0:i1t84hgy:mine; path=/; expires=${utc(100)}; max-age=100; SameSite=Lax`,
      ]);
    });

    it('reads a cookie among others, by exact name', () => {
      const page = loadTracker({
        file, cookies: { x_dvp: '0:1:wrong', a: 'b', _dvp: '0:i1t84hgy:right', _dvs: '0:abc:s~_!' },
      });
      assert.equal(page.divolte.partyId, '0:i1t84hgy:right');
      assert.equal(page.divolte.sessionId, '0:abc:s~_!');
    });

    it('replaces a malformed cookie value by a new id', () => {
      const page = loadTracker({ file, cookies: { _dvp: 'garbage', _dvs: '1:abc:x' } });
      assert.match(page.divolte.partyId, /^0:[0-9a-z]+:[A-Za-z0-9~_]{32}$/);
      assert.equal(page.divolte.isNewPartyId, true);
      assert.equal(page.divolte.isFirstInSession, true);
    });

    it('keeps working when document.cookie throws (sandboxed frame)', () => {
      const page = loadTracker({ file, cookieAccess: false });
      assert.equal(page.divolte.isNewPartyId, true);
      page.images[0].load();
      assert.match(page.divolte.signal('x'), /^0:/);
      assert.equal(page.images.length, 2);
    });
  });
}
