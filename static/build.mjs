// Builds collector/resources/divolte.min.js from static/divolte.js with terser, checks the result and
// reports its sizes.
//
//   node static/build.mjs           build (npm run build)
//   node static/build.mjs --check   fail if the committed divolte.min.js differs from a fresh build
//
// Checks: __DIVOLTE_CONFIG__ appears exactly once and in expression position (so that the JSON object
// the server substitutes cannot be read as a block), the output is ASCII only (the server sends it
// without a charset), and source and output parse as ES5.

import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { minify } from 'terser';
import { parse } from 'acorn';
import { CONFIG_TOKEN, countToken, injectConfig } from './inject.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const sourcePath = join(here, 'divolte.js');
const outputPath = join(root, 'collector', 'resources', 'divolte.min.js');
// Served instead of the minified file when a source sets javascript.debug = true: a symbolic link to the
// source itself (one copy in git; packaging copies the file it points to).
const defaults = JSON.parse(readFileSync(join(here, 'divolte.config.defaults.json'), 'utf8'));

export const TERSER_OPTIONS = {
  ecma: 5,
  compress: { passes: 3, ecma: 5 },
  mangle: true,
  format: { ascii_only: true, comments: false, ecma: 5 },
};

export async function build(source) {
  const result = await minify({ 'divolte.js': source }, TERSER_OPTIONS);
  return result.code + '\n';
}

function verify(name, code) {
  const problems = [];
  if (countToken(code) !== 1) {
    problems.push(`${CONFIG_TOKEN} occurs ${countToken(code)} times, expected once`);
  } else if (!/[=(,:?]\s*__DIVOLTE_CONFIG__\b/.test(code)) {
    problems.push(`${CONFIG_TOKEN} is not in expression position`);
  }
  if (/[^\x00-\x7f]/.test(code)) {
    problems.push('contains non-ASCII characters');
  }
  try {
    parse(injectConfig(code, defaults), { ecmaVersion: 5, sourceType: 'script' });
  } catch (error) {
    problems.push(`is not ES5: ${error.message}`);
  }
  if (problems.length) {
    throw new Error(`${name}: ${problems.join('; ')}`);
  }
}

async function main() {
  const source = readFileSync(sourcePath, 'utf8');
  verify('static/divolte.js', source);
  const minified = await build(source);
  verify('divolte.min.js', minified);
  const relativeOut = relative(root, outputPath);

  if (process.argv.includes('--check')) {
    const stale = (path, expected) => !existsSync(path) || readFileSync(path, 'utf8') !== expected;
    if (stale(outputPath, minified)) {
      console.error(`${relativeOut} is stale: run npm run build`);
      process.exit(1);
    }
    console.log(`${relativeOut} is up to date`);
    return;
  }

  writeFileSync(outputPath, minified);
  const served = Buffer.from(injectConfig(minified, defaults));
  const size = (n) => `${n.toLocaleString('en')} bytes`;
  console.log(`wrote ${relativeOut}`);
  console.log(`  source                         ${size(Buffer.byteLength(source))}`);
  console.log(`  minified                       ${size(Buffer.byteLength(minified))}`);
  console.log(`  minified + default config      ${size(served.length)}`);
  console.log(`  ... gzip -9                    ${size(gzipSync(served, { level: 9 }).length)}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((error) => {
    console.error(error.message);
    process.exit(1);
  });
}
