// (a) The mincode encoding of signal() parameters, observed in the u parameter of the sent event,
// against every mincode_js_encoder vector and a few edge cases.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { VARIANTS, loadTracker, loadVectors } from './fake-browser.mjs';

const vectors = loadVectors().mincode_js_encoder.cases;

/** The u parameter sent for signal('custom', <js expression evaluated in the page>), or undefined. */
function encodeInPage(file, expression) {
  const page = loadTracker({ file, config: { autoPageViewEvent: false } });
  page.evaluate(`divolte.signal('custom', ${expression})`);
  assert.equal(page.images.length, 1);
  return page.events[0].params.u;
}

for (const [variant, file] of VARIANTS) {
  describe(`mincode (${variant})`, () => {
    for (const vector of vectors) {
      it(`encodes ${vector.js}`, () => {
        // undefined parameters are not sent at all (Divolte only sends u when params !== undefined).
        assert.equal(encodeInPage(file, vector.js), vector.mincode ?? undefined);
      });
    }

    it('sends no u when signal() has no second argument', () => {
      const page = loadTracker({ file, config: { autoPageViewEvent: false } });
      page.divolte.signal('custom');
      assert.equal(page.events[0].names, 'psvecnflijkwhtx');
    });

    const edgeCases = [
      ['null', 'n'],
      ['true', 't'],
      ['{a: false, b: null, c: true}', '(fa!nb!tc!)'],
      ['{"we~ird!": "v~!"}', '(swe~~ird~!!v~~~!!)'],
      ['{a: undefined, b: function () {}, c: 1}', '(dc!1!)'],
      ['[undefined, function () {}, 2]', 'annd2!.'],
      ['[NaN, Infinity, -Infinity]', 'annn.'],
      ['{o: {}, p: [], q: {r: [1, {s: "t"}]}}', '((o!)ap!.(q!ar!d1!(ss!t!).))'],
      ['1e9', 'j1e+9!'],
      ['0.000001', 'j1e-6!'],
      ['-0', 'd0!'],
      ['100', 'd2s!'],
      ['new Date(NaN)', 'n'],
      ['{toJSON: function () { return "custom"; }}', 'scustom!'],
      ['{d: new Date(0)}', '(sd!1970-01-01T00:00:00.000Z!)'],
    ];
    for (const [expression, expected] of edgeCases) {
      it(`encodes ${expression}`, () => {
        assert.equal(encodeInPage(file, expression), expected);
      });
    }

    it('sends the event without u when the parameters cannot be encoded (a cycle)', () => {
      const page = loadTracker({ file, config: { autoPageViewEvent: false } });
      const id = page.evaluate('var cyclic = {}; cyclic.self = cyclic; divolte.signal("custom", cyclic)');
      assert.match(id, /^0:/);
      assert.equal(page.events[0].params.u, undefined);
      assert.equal(page.events[0].params.t, 'custom');
    });

    it('encodes a function as a top-level value by leaving u out', () => {
      assert.equal(encodeInPage(file, 'function () {}'), undefined);
    });

    it('encodes a BigInt as a base-36 integer', () => {
      assert.equal(encodeInPage(file, 'BigInt("123456789012345678901234567890")'),
        `d${123456789012345678901234567890n.toString(36)}!`);
    });
  });
}
