// Bundles the dashboard's front end into --out DIR: src/main.js (+ ECharts from node_modules)
// -> app.js, src/app.css -> app.css, src/index.html and src/favicon.svg as they are. The build
// runs this at compile time and embeds DIR's files into the binary (serve/assets.h); nothing is
// fetched at run time.
import { build } from 'esbuild';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const outIndex = args.indexOf('--out');
if (outIndex < 0 || !args[outIndex + 1]) {
  console.error('usage: node build.mjs --out DIR');
  process.exit(2);
}
const out = resolve(args[outIndex + 1]);
if (!existsSync(join(here, 'node_modules', 'echarts'))) {
  console.error('web/node_modules is missing: run scripts/setup.sh (npm ci in web/)');
  process.exit(1);
}
mkdirSync(out, { recursive: true });

await build({
  entryPoints: [join(here, 'src', 'main.js')],
  bundle: true,
  minify: true,
  format: 'iife',
  target: ['es2020'],
  legalComments: 'none',
  outfile: join(out, 'app.js'),
  logLevel: 'warning',
});
await build({
  entryPoints: [join(here, 'src', 'app.css')],
  bundle: true,
  minify: true,
  outfile: join(out, 'app.css'),
  logLevel: 'warning',
});
for (const name of ['index.html', 'favicon.svg']) copyFileSync(join(here, 'src', name), join(out, name));
