// Tests of tools/check-sizes.mjs (issue 18's size limits) on a throw-away tree: a long C++
// function, TypeScript function, arrow function and .vue method are reported with their lines, a
// long file is reported, the ones at the limit are not, and the exceptions of docs/architecture.md
// ("Size exceptions") are left out. Run: node --test tests/tools/
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { findings, formatFinding, lineCount, readExceptions } from '../../tools/check-sizes.mjs'

const TOOL = fileURLToPath(new URL('../../tools/check-sizes.mjs', import.meta.url))

/** `n` numbered statement lines, indented. */
const body = (n, stmt = (i) => `x += ${i};`) => Array.from({ length: n }, (_, i) => `  ${stmt(i)}`).join('\n')

/** A C++ function of exactly `lines` lines (signature and closing brace included). */
const cppFunction = (name, lines) => `int ${name}(int x) {\n${body(lines - 3)}\n  return x;\n}\n`
/** A TypeScript function declaration of exactly `lines` lines. */
const tsFunction = (name, lines) => `export function ${name}(x: number): number {\n${body(lines - 3)}\n  return x\n}\n`

function tree(files) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'check-sizes-'))
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true })
    fs.writeFileSync(path.join(root, rel), text)
  }
  return root
}

const FIXTURE = {
  'src/a/long.cc': `namespace d {\n${cppFunction('AtLimit', 80)}\n${cppFunction('TooLong', 81)}\n` +
    `struct S {\n  int Method(int x);\n};\nint S::Method(int x) {\n${body(78)}\n  return x;\n}\n}  // namespace d\n`,
  'src/a/excused.cc': cppFunction('Excused', 120),
  'src/a/whole.cc': cppFunction('Whole', 90) + '// filler\n'.repeat(900),
  'web/src/api/x.ts': tsFunction('atLimit', 80) + tsFunction('tooLong', 81) +
    `export const arrow = (x: number) => {\n${body(85)}\n  return x\n}\n`,
  'web/src/views/v.vue': `<template>\n  <div />\n</template>\n\n<script setup lang="ts">\nimport { ref } from 'vue'\n` +
    `const n = ref(0)\nfunction onClick() {\n${body(90, (i) => `n.value += ${i}`)}\n}\n</script>\n`,
  'tests/big.mjs': '// a line\n'.repeat(801),
  'tests/ok.mjs': '// a line\n'.repeat(800),
  'tools/long-function.mjs': `export function f(x) {\n${body(200)}\n  return x\n}\n`,
  'docs/not-source.ts': tsFunction('ignored', 200),
  'docs/architecture.md': '# Architecture\n\n## Size exceptions\n' +
    '- `src/a/excused.cc: Excused` — a reason.\n- `src/a/whole.cc` — another reason.\n\n## Next\n' +
    '- `web/src/api/x.ts: tooLong` — below another heading, so not an exception.\n',
}

test('long files and functions are reported; those at the limit and the exceptions are not', () => {
  const root = tree(FIXTURE)
  try {
    const doc = fs.readFileSync(path.join(root, 'docs/architecture.md'), 'utf8')
    const found = findings(root, readExceptions(doc)).map(formatFinding).sort()
    assert.deepEqual(found, [
      'src/a/long.cc:83: TooLong: 81 lines (limit 80)',
      'src/a/long.cc:168: S::Method: 81 lines (limit 80)',
      'tests/big.mjs: 801 lines (limit 800)',
      'web/src/api/x.ts:162: arrow: 88 lines (limit 80)',
      'web/src/api/x.ts:81: tooLong: 81 lines (limit 80)',
      'web/src/views/v.vue:8: onClick: 92 lines (limit 80)',
    ].sort())
  } finally {
    fs.rmSync(root, { recursive: true, force: true })
  }
})

test('the command exits 1 and prints the findings, or exits 0 and prints nothing', () => {
  const bad = tree({ 'src/x.cc': cppFunction('Long', 81) })
  const good = tree({ 'src/x.cc': cppFunction('Short', 80) })
  try {
    const r = spawnSync(process.execPath, [TOOL, '--root', bad], { encoding: 'utf8' })
    assert.equal(r.status, 1, r.stderr)
    assert.match(r.stdout, /^src\/x\.cc:1: Long: 81 lines \(limit 80\)$/m)
    const ok = spawnSync(process.execPath, [TOOL, '--root', good], { encoding: 'utf8' })
    assert.equal(ok.status, 0, ok.stderr + ok.stdout)
    assert.equal(ok.stdout, '')
  } finally {
    fs.rmSync(bad, { recursive: true, force: true })
    fs.rmSync(good, { recursive: true, force: true })
  }
})

test('exceptions are read only below "Size exceptions"; lines are counted as an editor does', () => {
  const ex = readExceptions('## Size exceptions\n- `a/b.cc` — why\n* `a/c.ts: f` — why\n- no code span\n## Other\n- `x.cc`\n')
  assert.deepEqual([...ex.files], ['a/b.cc'])
  assert.deepEqual([...ex.functions], ['a/c.ts: f'])
  const nested = readExceptions('## Layout\n### Size exceptions\n- `a.cc` — why\n#### Detail\n- `b.cc` — why\n### Next\n- `c.cc`\n')
  assert.deepEqual([...nested.files], ['a.cc', 'b.cc'])
  assert.equal(lineCount(''), 0)
  assert.equal(lineCount('a\nb\n'), 2)
  assert.equal(lineCount('a\nb'), 2)
})
