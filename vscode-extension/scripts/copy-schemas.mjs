// Copies the JSON schemas of the repository (../schemas/*.json) into ./schemas so the
// `jsonValidation` contributions of package.json ship inside the .vsix. Missing files are
// reported and skipped: the extension works without them (no validation for that file type).
import { copyFileSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const source = join(here, '..', '..', 'schemas');
const target = join(here, '..', 'schemas');
const expected = ['config.schema.json', 'eval-suite.schema.json'];

mkdirSync(target, { recursive: true });
const available = existsSync(source) ? readdirSync(source).filter((name) => name.endsWith('.json')) : [];
for (const name of available) {
  copyFileSync(join(source, name), join(target, name));
}
const missing = expected.filter((name) => !available.includes(name));
console.log(`copy-schemas: copied ${available.length} schema(s) from ${source}`);
if (missing.length) {
  console.warn(`copy-schemas: not found (no validation for them): ${missing.join(', ')}`);
}
