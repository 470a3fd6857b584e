#!/usr/bin/env node
// Generate Prisma Client for the interop tests from the project's own schema, offline.
//
//   node tests/node/generate.mjs [--force]
//
// - The project's prisma/*.prisma files are copied unchanged into tests/node/schema/, so the
//   generator's `output = "../generated"` lands in tests/node/generated/ (both gitignored).
//   Only the generator's `output` line is rewritten, should the project ever move it.
// - `prisma generate` is run with PRISMA_SCHEMA_ENGINE_BINARY=/bin/false: without it the CLI
//   downloads a schema-engine binary at start-up (generate never runs it); nothing is fetched.
// - The `prisma-client` generator writes TypeScript, which Node 20 cannot strip; interop.mjs
//   loads it through jiti (pinned in package.json), whose cache this script warms.
// - A stamp (package-lock.json, the schema files, this script) makes a second run a no-op;
//   a lock directory keeps parallel test workers from generating at the same time.
import { createHash } from 'node:crypto'
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const HERE = path.dirname(fileURLToPath(import.meta.url))
const PROJECT_SCHEMA = path.resolve(HERE, '..', '..', 'prisma')
const SCHEMA_COPY = path.join(HERE, 'schema')
const GENERATED = path.join(HERE, 'generated')
const STAMP = path.join(GENERATED, '.learnlab-stamp')
const LOCK = path.join(HERE, '.generate.lock')
const PRISMA_CLI = path.join(HERE, 'node_modules', 'prisma', 'build', 'index.js')

const force = process.argv.includes('--force')

function schemaFiles() {
  return fs.readdirSync(PROJECT_SCHEMA).filter((f) => f.endsWith('.prisma')).sort()
}

function wantedStamp() {
  const h = createHash('sha256')
  for (const f of [path.join(HERE, 'package-lock.json'), fileURLToPath(import.meta.url)]) {
    h.update(fs.readFileSync(f))
  }
  for (const f of schemaFiles()) {
    h.update(`\0${f}\0`).update(fs.readFileSync(path.join(PROJECT_SCHEMA, f)))
  }
  return h.digest('hex')
}

function upToDate(want) {
  try {
    return fs.readFileSync(STAMP, 'utf8').trim() === want && fs.existsSync(path.join(GENERATED, 'client.ts'))
  } catch {
    return false
  }
}

function sleep(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)
}

function lock() {
  const deadline = Date.now() + 180_000
  for (;;) {
    try {
      fs.mkdirSync(LOCK)
      return
    } catch (e) {
      if (e.code !== 'EEXIST') throw e
      let age = 0
      try {
        age = Date.now() - fs.statSync(LOCK).mtimeMs
      } catch {
        continue
      }
      if (age > 120_000) {
        fs.rmSync(LOCK, { recursive: true, force: true }) // left by a killed run
        continue
      }
      if (Date.now() > deadline) throw new Error(`${LOCK} is held by another run; remove it if none is running`)
      sleep(100)
    }
  }
}

function copySchema() {
  fs.rmSync(SCHEMA_COPY, { recursive: true, force: true })
  fs.mkdirSync(SCHEMA_COPY, { recursive: true })
  let outputs = 0
  for (const f of schemaFiles()) {
    let text = fs.readFileSync(path.join(PROJECT_SCHEMA, f), 'utf8')
    text = text.replace(/(generator\s+\w+\s*\{[^}]*?\boutput\s*=\s*)"[^"]*"/g, (_, head) => {
      outputs += 1
      return `${head}"../generated"`
    })
    fs.writeFileSync(path.join(SCHEMA_COPY, f), text)
  }
  if (outputs !== 1) throw new Error(`expected one generator with an output in ${PROJECT_SCHEMA}, found ${outputs}`)
}

function generate() {
  if (!fs.existsSync(PRISMA_CLI)) throw new Error(`${PRISMA_CLI} is missing: run ./dev setup --test`)
  copySchema()
  fs.rmSync(GENERATED, { recursive: true, force: true })
  const env = {
    ...process.env,
    PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY || '/bin/false',
    CHECKPOINT_DISABLE: '1',
    PRISMA_HIDE_UPDATE_MESSAGE: '1',
    PRISMA_GENERATE_SKIP_AUTOINSTALL: '1',
  }
  const r = spawnSync(process.execPath, [PRISMA_CLI, 'generate', '--schema', SCHEMA_COPY], {
    cwd: HERE,
    env,
    encoding: 'utf8',
    timeout: 240_000,
  })
  if (r.status !== 0 || !fs.existsSync(path.join(GENERATED, 'client.ts'))) {
    throw new Error(`prisma generate failed (${r.status ?? r.signal}):\n${r.stdout}\n${r.stderr}`)
  }
}

async function warm() {
  // Load the generated client once through jiti: it checks the client loads and fills jiti's cache.
  const { createJiti } = await import('jiti')
  const jiti = createJiti(pathToFileURL(path.join(HERE, 'interop.mjs')).href)
  const { Prisma } = await jiti.import(path.join(GENERATED, 'client.ts'))
  return Prisma.prismaVersion.client
}

const want = wantedStamp()
if (!force && upToDate(want)) process.exit(0)
lock()
try {
  if (force || !upToDate(want)) {
    const started = Date.now()
    generate()
    const version = await warm()
    fs.writeFileSync(STAMP, `${want}\n`)
    console.log(`Prisma Client ${version} generated in ${path.relative(process.cwd(), GENERATED) || '.'} (${Date.now() - started} ms)`)
  }
} finally {
  fs.rmSync(LOCK, { recursive: true, force: true })
}
