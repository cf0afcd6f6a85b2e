// Configuration injection, exactly as the Python server does it: the one identifier __DIVOLTE_CONFIG__
// in divolte.js (source or minified) is replaced by a JSON object literal whose non-ASCII characters
// (U+2028/U+2029 included, which old browsers treat as line ends) are \u-escaped, like Python's
// json.dumps(..., ensure_ascii=True). Used by the build (size report) and the tests.

export const CONFIG_TOKEN = '__DIVOLTE_CONFIG__';

export function configLiteral(config) {
  return JSON.stringify(config).replace(/[\u007f-\uffff]/g,
    (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
}

export function countToken(source) {
  return source.split(CONFIG_TOKEN).length - 1;
}

export function injectConfig(source, config) {
  if (countToken(source) !== 1) {
    throw new Error(`expected ${CONFIG_TOKEN} exactly once, found ${countToken(source)}`);
  }
  return source.replace(CONFIG_TOKEN, () => configLiteral(config));
}
