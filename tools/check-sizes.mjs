#!/usr/bin/env node
// Issue 18's size limits: no source file over 800 lines, no function over 80 lines, unless
// docs/architecture.md names it under the heading "Size exceptions" with its reason.
//
//   node tools/check-sizes.mjs [--root DIR] [--quiet]
//
// Files: those git lists under src, bench, web/src, tests and tools (tracked, or untracked and
// not ignored; every file below those folders when DIR is not a git checkout) ending in .cc .h
// .cpp .ts .vue .mjs. Functions: C++ (.cc .h .cpp) as universal-ctags reports their spans (kind
// f, the `end` field); TypeScript (.ts) and the <script> blocks of .vue files as the
// `typescript` package of web/node_modules parses them (function declarations and expressions,
// arrow functions, methods, constructors and accessors; a function's span includes the functions
// inside it). The .mjs files of the tests and tools are held to the file limit only.
//
// An exception is a list item under "## Size exceptions" whose first code span is `path` (the
// whole file, for the file limit and for its functions) or `path: function` (one function, named
// as reported: `Class::Method` or `Method` for C++, the name for TypeScript), then the reason.
//
// Prints one line per finding and exits 1 when any is left; prints nothing and exits 0 otherwise
// (--quiet: never prints the summary line).
import { execFileSync, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

export const MAX_FILE_LINES = 800
export const MAX_FUNCTION_LINES = 80
const FOLDERS = ['src', 'bench', 'web/src', 'tests', 'tools']
const ENDINGS = ['.cc', '.h', '.cpp', '.ts', '.vue', '.mjs']
const CPP = ['.cc', '.h', '.cpp']
const SKIP_DIRS = new Set(['node_modules', 'dist', 'build', '.git'])

const TOOL_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

/** The source files below `root` (paths relative to it, with forward slashes), sorted. */
export function sourceFiles(root) {
  const wanted = (f) => ENDINGS.some((e) => f.endsWith(e)) && FOLDERS.some((d) => f.startsWith(d + '/'))
  const git = spawnSync('git', ['-C', root, 'ls-files', '-z', '--cached', '--others', '--exclude-standard', '--', ...FOLDERS],
    { encoding: 'utf8', maxBuffer: 64 << 20 })
  const insideGit = git.status === 0 &&
    spawnSync('git', ['-C', root, 'rev-parse', '--show-prefix'], { encoding: 'utf8' }).stdout.trim() === ''
  let files
  if (insideGit) {
    files = [...new Set(git.stdout.split('\0').filter(Boolean))].filter((f) => fs.existsSync(path.join(root, f)))
  } else {
    files = []
    const walk = (rel) => {
      for (const e of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
        const r = rel ? `${rel}/${e.name}` : e.name
        if (e.isDirectory()) { if (!SKIP_DIRS.has(e.name)) walk(r) } else if (e.isFile()) files.push(r)
      }
    }
    for (const d of FOLDERS) if (fs.existsSync(path.join(root, d))) walk(d)
  }
  return files.filter(wanted).sort()
}

/** Lines of a text as an editor counts them (a final newline does not open a line). */
export function lineCount(text) {
  if (text === '') return 0
  return text.split('\n').length - (text.endsWith('\n') ? 1 : 0)
}

// ---------------------------------------------------------------- C++ (universal-ctags)

/** [{name, start, end}] of the C++ function definitions of `files` (absolute paths), by file. */
export function cppFunctions(files) {
  const byFile = new Map(files.map((f) => [f, []]))
  if (files.length === 0) return byFile
  const out = execFileSync('ctags', ['--output-format=json', '--fields=+neZ', '--kinds-C++=f', '--language-force=C++',
    '-f', '-', ...files], { encoding: 'utf8', maxBuffer: 256 << 20 })
  for (const line of out.split('\n')) {
    if (!line.startsWith('{')) continue
    const t = JSON.parse(line)
    if (t._type !== 'tag' || t.kind !== 'function' || !t.end) continue
    const owner = ['class', 'struct', 'union'].includes(t.scopeKind) ? `${String(t.scope).split('::').pop()}::` : ''
    byFile.get(t.path)?.push({ name: owner + t.name, start: t.line, end: t.end })
  }
  return byFile
}

// ---------------------------------------------------------------- TypeScript and Vue (typescript)

let tsModule = null
function typescript() {
  if (!tsModule) {
    const require = createRequire(path.join(TOOL_ROOT, 'web', 'package.json'))
    try {
      tsModule = require('typescript')
    } catch {
      throw new Error('the typescript package is missing: run `npm ci` in web/ (make build does)')
    }
  }
  return tsModule
}

/** The name a function node is known by: its own, its variable's, its property's, or `<arrow>`. */
function functionName(ts, node, sf) {
  if (node.name) return node.name.getText(sf)
  if (ts.isConstructorDeclaration(node)) return 'constructor'
  const p = node.parent
  if (p && (ts.isVariableDeclaration(p) || ts.isPropertyAssignment(p) || ts.isPropertyDeclaration(p)) && p.name) {
    return p.name.getText(sf)
  }
  if (p && ts.isCallExpression(p)) return `${p.expression.getText(sf).slice(0, 40)}(<${ts.isArrowFunction(node) ? 'arrow' : 'function'}>)`
  return ts.isArrowFunction(node) ? '<arrow>' : '<function>'
}

/**
 * [{name, start, end}] of the functions of a TypeScript text; `firstLine` is the file line of
 * the text's first line (a .vue <script> block starts inside the file).
 */
export function tsFunctions(text, fileName, firstLine = 1) {
  const ts = typescript()
  const sf = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS)
  const found = []
  const visit = (node) => {
    if (ts.isFunctionDeclaration(node) || ts.isFunctionExpression(node) || ts.isArrowFunction(node) ||
      ts.isMethodDeclaration(node) || ts.isConstructorDeclaration(node) || ts.isGetAccessorDeclaration(node) ||
      ts.isSetAccessorDeclaration(node)) {
      if (node.body) {
        const start = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line
        const end = sf.getLineAndCharacterOfPosition(node.getEnd()).line
        found.push({ name: functionName(ts, node, sf), start: start + firstLine, end: end + firstLine })
      }
    }
    ts.forEachChild(node, visit)
  }
  visit(sf)
  return found
}

/** The functions of the <script> blocks of a .vue file, with their lines in the file. */
export function vueFunctions(text, fileName) {
  const found = []
  const re = /<script\b[^>]*>([\s\S]*?)<\/script>/g
  for (let m; (m = re.exec(text));) {
    const bodyStart = m.index + m[0].indexOf('>') + 1
    const firstLine = text.slice(0, bodyStart).split('\n').length
    found.push(...tsFunctions(m[1], fileName, firstLine))
  }
  return found
}

// ---------------------------------------------------------------- exceptions

/**
 * The exceptions of docs/architecture.md (below a heading "Size exceptions" of any level, up to
 * the next heading of that level or above): {files: Set of paths, functions: Set of "path: name"}.
 */
export function readExceptions(markdown) {
  const files = new Set()
  const functions = new Set()
  let level = 0 // of the "Size exceptions" heading while inside its section, else 0
  for (const line of markdown.split('\n')) {
    const h = /^(#{1,6})\s+(.*)$/.exec(line)
    if (h) {
      if (level && h[1].length <= level) level = 0
      if (/^size exceptions\b/i.test(h[2].trim())) level = h[1].length
      continue
    }
    if (!level) continue
    const item = /^\s*[-*]\s+`([^`]+)`/.exec(line)
    if (!item) continue
    const spec = item[1].trim()
    const colon = spec.indexOf(': ')
    if (colon < 0) files.add(spec)
    else functions.add(`${spec.slice(0, colon).trim()}: ${spec.slice(colon + 2).trim()}`)
  }
  return { files, functions }
}

// ---------------------------------------------------------------- the check

/** Every finding under `root`: {kind: 'file'|'function', path, name?, lines, start?}. */
export function findings(root, exceptions = { files: new Set(), functions: new Set() }) {
  const files = sourceFiles(root)
  const out = []
  const texts = new Map(files.map((f) => [f, fs.readFileSync(path.join(root, f), 'utf8')]))
  for (const f of files) {
    const n = lineCount(texts.get(f))
    if (n > MAX_FILE_LINES && !exceptions.files.has(f)) out.push({ kind: 'file', path: f, lines: n })
  }
  const cpp = files.filter((f) => CPP.some((e) => f.endsWith(e)))
  const cppByFile = cppFunctions(cpp.map((f) => path.join(root, f)))
  const functionsOf = (f) => {
    if (CPP.some((e) => f.endsWith(e))) return cppByFile.get(path.join(root, f)) ?? []
    if (f.endsWith('.ts')) return tsFunctions(texts.get(f), f)
    if (f.endsWith('.vue')) return vueFunctions(texts.get(f), f)
    return []
  }
  for (const f of files) {
    if (exceptions.files.has(f)) continue
    for (const fn of functionsOf(f)) {
      const lines = fn.end - fn.start + 1
      if (lines > MAX_FUNCTION_LINES && !exceptions.functions.has(`${f}: ${fn.name}`)) {
        out.push({ kind: 'function', path: f, name: fn.name, start: fn.start, lines })
      }
    }
  }
  return out
}

export function formatFinding(x) {
  return x.kind === 'file'
    ? `${x.path}: ${x.lines} lines (limit ${MAX_FILE_LINES})`
    : `${x.path}:${x.start}: ${x.name}: ${x.lines} lines (limit ${MAX_FUNCTION_LINES})`
}

function main(argv) {
  let root = TOOL_ROOT
  let quiet = false
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--root') root = path.resolve(argv[++i] ?? '.')
    else if (argv[i] === '--quiet') quiet = true
    else {
      console.error(`usage: node tools/check-sizes.mjs [--root DIR] [--quiet] (unknown argument ${argv[i]})`)
      return 2
    }
  }
  const doc = path.join(root, 'docs', 'architecture.md')
  const exceptions = readExceptions(fs.existsSync(doc) ? fs.readFileSync(doc, 'utf8') : '')
  const found = findings(root, exceptions)
  for (const x of found) console.log(formatFinding(x))
  if (found.length && !quiet) {
    console.log(`${found.length} over the size limits (exceptions: docs/architecture.md, "Size exceptions")`)
  }
  return found.length ? 1 : 0
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    process.exitCode = main(process.argv.slice(2))
  } catch (e) {
    console.error(`check-sizes: ${e.message}`)
    process.exitCode = 2
  }
}
