// End-to-end smoke test in a real headless Chromium (skipped when none is installed; set CHROMIUM to
// its path): a tiny node server serves a page, the built tracker with the default config injected and
// a pixel endpoint that records the queries. The page signals a custom event and, once committed,
// opens a second page in a frame (a second page load with the cookies of the first); the test checks
// the events, their checksums and the cookies.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUILT_PATH, DEFAULTS, parseEventUrl, referenceChecksum } from './fake-browser.mjs';
import { injectConfig } from '../../static/inject.mjs';

const chromium = [process.env.CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser']
  .find((path) => path && existsSync(path));

const GIF = Buffer.from('R0lGODlhAQABAAAAACH5BAEKAAEALAAAAAABAAEAAAICTAEAOw==', 'base64');

const PAGE_ONE = `<!DOCTYPE html><html><head><meta charset="utf-8"><title>one</title></head><body>
<script src="/divolte.js" defer async></script>
<script>
window.addEventListener('load', function () {
  divolte.signal('myEvent', {foo: 'hello', emoji: '😀', list: [1.5, true, null], q: 'a~b!c'});
  divolte.whenCommitted(function () {
    var frame = document.createElement('iframe');
    frame.src = '/two.html?x=1#frag';
    document.body.appendChild(frame);
  }, 5000);
});
</script></body></html>`;

const PAGE_TWO = `<!DOCTYPE html><html><head><meta charset="utf-8"><title>two</title></head><body>
<script src="/divolte.js#serverPv"></script>
<script>
divolte.signal('clicked😀');
divolte.whenCommitted(function () {
  parent.document.body.setAttribute('data-result', JSON.stringify({
    partyId: divolte.partyId, sessionId: divolte.sessionId, pageViewId: divolte.pageViewId,
    isNewPartyId: divolte.isNewPartyId, isFirstInSession: divolte.isFirstInSession,
    isServerPageView: divolte.isServerPageView, cookie: document.cookie
  }));
}, 5000);
</script></body></html>`;

const PAGE_SPA = `<!DOCTYPE html><html><head><meta charset="utf-8"><title>spa</title></head><body>
<script src="/divolte.js"></script>
<script>
history.pushState({n: 1}, '', '/spa/a');
history.replaceState({n: 2}, '', '/spa/b');
history.replaceState({n: 3}, '');
window.addEventListener('popstate', function () {
  divolte.whenCommitted(function () {
    document.body.setAttribute('data-result', JSON.stringify({cookie: document.cookie}));
  }, 5000);
});
history.back();
</script></body></html>`;

function serve(config = DEFAULTS) {
  const events = [];
  const script = injectConfig(readFileSync(BUILT_PATH, 'utf8'), config);
  const server = createServer((request, response) => {
    const url = request.url;
    if (url.startsWith('/csc-event?')) {
      events.push(parseEventUrl(url));
      response.writeHead(200, { 'Content-Type': 'image/gif', 'Cache-Control': 'private, no-cache, proxy-revalidate' });
      response.end(GIF);
    } else if (url.startsWith('/divolte.js')) {
      response.writeHead(200, { 'Content-Type': 'application/javascript' });
      response.end(script);
    } else if (/^\/(one|two|spa)/.test(url)) {
      response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
      response.end(url.startsWith('/one') ? PAGE_ONE : url.startsWith('/two') ? PAGE_TWO : PAGE_SPA);
    } else {
      response.writeHead(404);
      response.end();
    }
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve({ server, events, port: server.address().port }));
  });
}

function dumpDom(url, profile) {
  const args = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    `--user-data-dir=${profile}`, '--virtual-time-budget=10000', '--dump-dom', url];
  return new Promise((resolve, reject) => {
    execFile(chromium, args, { timeout: 60000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${error.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

describe('real browser', { skip: !chromium && 'no Chromium installed (set CHROMIUM)' }, () => {
  it('sends checksummed events with cookies across two page loads', async () => {
    const { server, events, port } = await serve();
    const profile = mkdtempSync(join(tmpdir(), 'divolte-chromium-'));
    try {
      const dom = await dumpDom(`http://127.0.0.1:${port}/one.html`, profile);
      const match = dom.match(/data-result="([^"]*)"/);
      assert.ok(match, `no result in the page:\n${dom}`);
      const result = JSON.parse(match[1].replace(/&quot;/g, '"').replace(/&amp;/g, '&'));

      assert.deepEqual(events.map((e) => e.params.t), ['pageView', 'myEvent', 'pageView', 'clicked😀']);
      for (const event of events) {
        assert.equal(event.params.x, referenceChecksum(event.pairs), event.query);
        assert.match(event.names, /^psvecnflr?(ijk)?whtu?x$/);
        assert.equal(event.params.p, result.partyId);
        assert.equal(event.params.s, result.sessionId);
      }
      const [first, custom, second, emoji] = events;
      assert.deepEqual([first.params.n, first.params.f], ['t', 't']);
      assert.deepEqual([custom.params.n, custom.params.f], ['f', 'f']);
      assert.deepEqual([second.params.n, second.params.f], ['f', 'f']);
      assert.equal(custom.params.u, '(sfoo!hello!semoji!😀!alist!j1.5!tn.sq!a~~b~!c!)');
      assert.equal(custom.params.e, `${first.params.v}1`);
      assert.match(first.params.v, /^0:[A-Za-z0-9~_]{32}$/);
      assert.equal(second.params.v, 'serverPv');
      assert.deepEqual([second.params.e, emoji.params.e], ['serverPv0', 'serverPv1']);
      assert.equal(second.params.l, `http://127.0.0.1:${port}/two.html?x=1#frag`);
      assert.equal(second.params.r, `http://127.0.0.1:${port}/one.html`);
      assert.equal(emoji.params.x, referenceChecksum(emoji.pairs));
      assert.match(result.partyId, /^0:[0-9a-z]+:[A-Za-z0-9~_]{32}$/);
      assert.deepEqual([result.isNewPartyId, result.isFirstInSession, result.isServerPageView], [false, false, true]);
      assert.match(result.cookie, new RegExp(`_dvp=${result.partyId}`));
      assert.match(result.cookie, new RegExp(`_dvs=${result.sessionId}`));
    } finally {
      server.close();
      rmSync(profile, { recursive: true, force: true });
    }
  });

  it('starts page views on history changes with spaPageViews', async () => {
    const config = { ...DEFAULTS, spaPageViews: true, cookieSameSite: 'Strict' };
    const { server, events, port } = await serve(config);
    const profile = mkdtempSync(join(tmpdir(), 'divolte-chromium-'));
    try {
      const dom = await dumpDom(`http://127.0.0.1:${port}/spa.html`, profile);
      assert.match(dom, /data-result=".*_dvp=/, dom);
      const base = `http://127.0.0.1:${port}`;
      assert.deepEqual(events.map((e) => [e.params.t, e.params.l, e.params.e.slice(-1)]), [
        ['pageView', `${base}/spa.html`, '0'],
        ['pageView', `${base}/spa/a`, '0'],
        ['pageView', `${base}/spa/b`, '0'],
        ['pageView', `${base}/spa.html`, '0'],
      ]);
      assert.equal(new Set(events.map((e) => e.params.v)).size, 4);
      assert.deepEqual(events.map((e) => e.params.r), [undefined, `${base}/spa.html`, `${base}/spa/a`, `${base}/spa/b`]);
      for (const event of events) {
        assert.equal(event.params.x, referenceChecksum(event.pairs), event.query);
      }
    } finally {
      server.close();
      rmSync(profile, { recursive: true, force: true });
    }
  });
});
