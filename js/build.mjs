// Minify footfall.js into the file the server serves at /js/footfall.js.
//
//   node build.mjs            writes ../src/footfall/collector/static/footfall.js
//   node build.mjs OUT        writes OUT instead (tests/collector/test_browser_script.py
//                             rebuilds to a temporary file and compares)
//
// Options live here, not on a command line, so `make assets` and the test
// produce byte-identical output with the terser version pinned in package-lock.json.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { minify } from 'terser';

const here = dirname(fileURLToPath(import.meta.url));
const out = process.argv[2] || `${here}/../src/footfall/collector/static/footfall.js`;
const source = readFileSync(`${here}/footfall.js`, 'utf8');

const result = await minify(source, {
  ecma: 2020,
  compress: { passes: 3, unsafe: true, unsafe_arrows: true, pure_getters: true },
  mangle: true,
  format: { comments: false },
});
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, result.code + '\n');
console.log(`footfall.js: ${source.length} -> ${result.code.length} bytes`);
