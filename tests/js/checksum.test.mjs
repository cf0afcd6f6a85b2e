// (b) The checksum x: the reference murmur3 used here is checked against the spec's vectors, and the
// tracker's x is checked against it for events that reproduce the browser_checksum_js_generated queries
// (the same parameter multimap except the event id, which the tracker derives from the page-view id).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  VARIANTS, canonicalString, loadTracker, loadVectors, parseEventUrl, referenceChecksum, referenceMurmur3,
} from './fake-browser.mjs';

const vectors = loadVectors();
const generated = vectors.browser_checksum_js_generated.cases;

describe('reference murmur3 (test oracle)', () => {
  for (const vector of vectors.browser_checksum.cases.filter((c) => c.canonical_string)) {
    it(`matches browser_checksum ${vector.name}`, () => {
      const pairs = parseEventUrl(`/csc-event?${vector.query}`).pairs;
      assert.equal(canonicalString(pairs), vector.canonical_string);
      assert.equal(referenceChecksum(pairs), pairs.find(([k]) => k === 'x')[1]);
    });
  }
  for (const vector of generated) {
    it(`matches browser_checksum_js_generated ${vector.name}`, () => {
      const pairs = parseEventUrl(`/csc-event?${vector.query}`).pairs;
      assert.equal(canonicalString(pairs), vector.canonical_string);
      assert.equal(referenceMurmur3(vector.canonical_string).toString(36), vector.x_correct_murmur3_utf8);
      assert.equal(vector.x_sent_by_divolte_js, vector.x_correct_murmur3_utf8);
    });
  }
});

/** A page whose events carry the vectors' p, s, v, c, n, f, l, i, j, k, w, h values. */
function vectorPage(file, extra = {}) {
  return loadTracker({
    file,
    config: { autoPageViewEvent: false },
    scriptSrc: 'http://localhost:8290/divolte.js#0:pageView',
    cookies: { _dvp: '0:i1t84hgy:party', _dvs: '0:i1t84hgy:session' },
    href: 'http://localhost:8290/',
    now: 1414499908146,
    screen: { availWidth: 1676, availHeight: 1027 },
    devicePixelRatio: 2,
    innerWidth: 1102,
    innerHeight: 949,
    ...extra,
  });
}

const SIGNALS = {
  unicode: ['ụñ⚕©ºḌℨ'],
  sentinel: ['sentinelEvent'],
  emoji: ['clicked😀'],
  custom: ['myEvent', '{foo:"hello",bar:42,baz:[1.5,true,null],q:"a~b!c",d:new Date(Date.UTC(2015,5,13,15,49,33,2))}'],
  'dpr-float': ['pageView', undefined, { devicePixelRatio: 1.5 }],
};

for (const [variant, file] of VARIANTS) {
  describe(`checksum of generated queries (${variant})`, () => {
    for (const vector of generated) {
      it(`reproduces ${vector.name}`, () => {
        const [type, params, extra] = SIGNALS[vector.name];
        const page = vectorPage(file, extra);
        page.evaluate(`divolte.signal(${JSON.stringify(type)}${params ? `, ${params}` : ''})`);
        const sent = page.events[0];
        const expected = parseEventUrl(`/csc-event?${vector.query}`);
        // Same multimap once the event id is the vector's; then the tracker's x must be the correct
        // murmur3 of its own canonical string (for the emoji case: not Divolte's server value).
        assert.equal(sent.params.e, '0:pageView0');
        const withVectorEventId = sent.pairs.map(([k, v]) => [k, k === 'e' ? expected.params.e : v]);
        assert.equal(canonicalString(withVectorEventId), vector.canonical_string);
        assert.equal(sent.query.replace(/&x=[^&]*$/, '').replace('e=0%3ApageView0', 'e=0%3AeventId'),
          vector.query.replace(/&x=[^&]*$/, ''));
        assert.equal(sent.params.x, referenceChecksum(sent.pairs));
        assert.equal(referenceChecksum(withVectorEventId), vector.x_sent_by_divolte_js);
        if (vector.name === 'emoji') {
          assert.notEqual(sent.params.x, referenceMurmur3(canonicalString(sent.pairs).replace('😀', '')).toString(36));
        }
      });
    }

    it('the checksum equals the reference for many strings (BMP, non-BMP, tails of 0-3 bytes)', () => {
      const page = vectorPage(file);
      const samples = ['', 'a', 'ab', 'abc', 'abcd', 'é', '€', '😀', '😀😀x', 'ж'.repeat(7), '𝄞 music',
        '\u0000', '%41+%2B &=;,', 'x'.repeat(300), '漢字かな', '\u{10FFFF}'];
      for (const sample of samples) {
        page.divolte.signal('t', sample);
        page.divolte.signal(`type ${sample}`);
      }
      assert.ok(page.images.length >= 1);
      // Only the first image is created until it completes: complete them one by one.
      for (let i = 0; i < samples.length * 2; i++) page.images[i].load();
      assert.equal(page.images.length, samples.length * 2);
      for (const event of page.events) {
        assert.equal(event.params.x, referenceChecksum(event.pairs), event.query);
      }
    });

    it('replaces lone surrogates by U+FFFD instead of throwing', () => {
      const page = vectorPage(file);
      const id = page.evaluate('divolte.signal("bad\\uD800", {a: "\\uDC00x"})');
      assert.equal(id, '0:pageView0');
      const event = page.events[0];
      assert.equal(event.params.t, 'bad\uFFFD');
      assert.equal(event.params.u, '(sa!\uFFFDx!)');
      assert.equal(event.params.x, referenceChecksum(event.pairs));
    });

    it('computes the same checksums without Math.imul (old browsers)', () => {
      const withImul = vectorPage(file);
      const without = vectorPage(file, { before: 'Math.imul = undefined;' });
      for (const page of [withImul, without]) {
        page.divolte.signal('clicked😀', { a: 'x'.repeat(33) });
      }
      assert.equal(without.events[0].params.x, withImul.events[0].params.x);
      assert.equal(without.events[0].params.x, referenceChecksum(without.events[0].pairs));
    });
  });
}
