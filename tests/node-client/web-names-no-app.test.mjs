// web/ is hotwasm's generic page side: any app uses it, so its code names no app. The demo's
// page and names live in examples/particles/web/.
//
//   node --test tests/node-client/

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ROOT } from '../browser/helpers.mjs';

const WEB = join(ROOT, 'web');
const DEMO_NAMES = /\b(demo\w*|World|Particle\w*|particles?|createHotwasmDemo|createParticles|hotwasm_demo)\b/;

function* files(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* files(path);
    else if (/\.(js|mjs|html|css)$/.test(name)) yield path;
  }
}

test('no code of web/ names the demo app', () => {
  const hits = [];
  for (const file of files(WEB)) {
    readFileSync(file, 'utf8')
      .split('\n')
      .forEach((line, i) => DEMO_NAMES.test(line) && hits.push(`${relative(ROOT, file)}:${i + 1}: ${line.trim()}`));
  }
  assert.deepEqual(hits, [], 'web/ must stay app-agnostic: move app-specific code to the app (examples/*/web/)');
});
