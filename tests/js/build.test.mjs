// The committed build collector/resources/divolte.min.js: present, fresh (when terser is installed),
// ES5 (when acorn is installed), ASCII only, one config token in expression position, within
// Divolte's size (4,133 bytes gzipped).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { BUILT_PATH, DEFAULTS, SOURCE_PATH } from './fake-browser.mjs';
import { CONFIG_TOKEN, countToken, injectConfig } from '../../static/inject.mjs';

async function optional(name) {
  try {
    return await import(name);
  } catch {
    return null;
  }
}

const acorn = await optional('acorn');
const builder = (await optional('terser')) ? await import('../../static/build.mjs') : null;
const source = readFileSync(SOURCE_PATH, 'utf8');
const built = existsSync(BUILT_PATH) ? readFileSync(BUILT_PATH, 'utf8') : null;

describe('build', () => {
  it('is committed', () => {
    assert.ok(built, `${BUILT_PATH} is missing: run npm run build`);
  });

  it('has the config token exactly once, in expression position', () => {
    for (const code of [source, built]) {
      assert.equal(countToken(code), 1);
      assert.match(code, new RegExp(`[=(,:?]\\s*${CONFIG_TOKEN}\\b`));
    }
  });

  it('is ASCII only (served without a charset)', () => {
    assert.doesNotMatch(built, /[^\x00-\x7f]/);
  });

  it('keeps the served script within Divolte\'s 4,133 bytes gzipped', () => {
    const served = Buffer.from(injectConfig(built, DEFAULTS));
    assert.ok(gzipSync(served, { level: 9 }).length <= 4133);
  });

  it('parses as ES5, source and build', { skip: !acorn && 'acorn is not installed (npm ci)' }, () => {
    for (const code of [source, built]) {
      acorn.parse(injectConfig(code, DEFAULTS), { ecmaVersion: 5, sourceType: 'script' });
    }
  });

  it('is the terser build of the current source', { skip: !builder && 'terser is not installed (npm ci)' }, async () => {
    assert.equal(await builder.build(source), built, 'stale divolte.min.js: run npm run build');
  });
});
