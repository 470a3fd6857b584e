#!/usr/bin/env node
// The real Prisma Client 7 (generated from the project's schema by generate.mjs) with the libSQL
// driver adapter, driven by learnlab's tests with JSON in and out.
//
//   node interop.mjs run <dbfile> [iso8601|unixepoch-ms] < ops.json   -> {"<name>": result, ...}
//   node interop.mjs version                                          -> {"client": "7.x.y"}
//
// ops.json is a list of operations run in order, each a Prisma Client call:
//   {"name": "ada", "model": "User", "op": "create", "args": {"data": {...}}}
// Values in args and results are plain JSON except for these tagged forms:
//   {"$date": "2024-01-02T03:04:05.678Z"}   a Date
//   {"$bytes": "<base64>"}                  a Uint8Array (Bytes)
//   {"$json": "JsonNull" | "DbNull"}        Prisma.JsonNull / Prisma.DbNull (args only)
//   {"$ref": "<name>.<field>"}              a field of an earlier operation's result (args only)
// Errors go to stderr with exit status 2.
import path from 'node:path'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { createJiti } from 'jiti'
import { PrismaLibSql } from '@prisma/adapter-libsql'

const HERE = path.dirname(fileURLToPath(import.meta.url))
const jiti = createJiti(import.meta.url)
const { PrismaClient, Prisma } = await jiti.import(path.join(HERE, 'generated', 'client.ts'))

function isPlainObject(v) {
  return v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype
}

function decode(value, results) {
  if (Array.isArray(value)) return value.map((v) => decode(v, results))
  if (!isPlainObject(value)) return value
  const keys = Object.keys(value)
  if (keys.length === 1) {
    const [k] = keys
    const v = value[k]
    if (k === '$date') {
      const d = new Date(v)
      if (Number.isNaN(d.getTime())) throw new Error(`invalid $date ${JSON.stringify(v)}`)
      return d
    }
    if (k === '$bytes') return new Uint8Array(Buffer.from(v, 'base64'))
    if (k === '$json') {
      if (!(v in Prisma) || !['JsonNull', 'DbNull', 'AnyNull'].includes(v)) throw new Error(`unknown $json ${v}`)
      return Prisma[v]
    }
    if (k === '$ref') {
      const [name, ...field] = v.split('.')
      if (!(name in results)) throw new Error(`$ref ${v}: no earlier operation named ${name}`)
      return field.reduce((o, f) => o?.[f], results[name])
    }
  }
  return Object.fromEntries(keys.map((k) => [k, decode(value[k], results)]))
}

function encode(value) {
  if (value instanceof Date) {
    return { $date: Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString() }
  }
  if (value instanceof Uint8Array) return { $bytes: Buffer.from(value).toString('base64') }
  if (typeof value === 'bigint') return { $bigint: value.toString() }
  if (Array.isArray(value)) return value.map(encode)
  if (value !== null && typeof value === 'object') {
    if (Prisma.Decimal && value instanceof Prisma.Decimal) return { $decimal: value.toString() }
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, encode(v)]))
  }
  return value
}

function delegate(prisma, model) {
  const d = prisma[model.charAt(0).toLowerCase() + model.slice(1)]
  if (!d) throw new Error(`the generated client has no model ${model}`)
  return d
}

async function run(dbfile, timestampFormat, ops) {
  const options = timestampFormat && timestampFormat !== 'iso8601' ? { timestampFormat } : undefined
  const adapter = new PrismaLibSql({ url: `file:${path.resolve(dbfile)}` }, options)
  const prisma = new PrismaClient({ adapter })
  const results = {}
  const out = {}
  try {
    for (const [i, op] of ops.entries()) {
      const name = op.name ?? String(i)
      try {
        const args = decode(op.args ?? {}, results)
        const result = await delegate(prisma, op.model)[op.op](args)
        results[name] = result
        out[name] = encode(result)
      } catch (e) {
        e.message = `operation ${name} (${op.model}.${op.op}) failed: ${e.message}`
        throw e
      }
    }
  } finally {
    await prisma.$disconnect()
  }
  return out
}

const [mode, ...rest] = process.argv.slice(2)
try {
  if (mode === 'version') {
    process.stdout.write(JSON.stringify({ client: Prisma.prismaVersion.client }) + '\n')
  } else if (mode === 'run') {
    const [dbfile, timestampFormat = 'iso8601'] = rest
    if (!dbfile) throw new Error('usage: node interop.mjs run <dbfile> [iso8601|unixepoch-ms] < ops.json')
    const ops = JSON.parse(readFileSync(0, 'utf8'))
    if (!Array.isArray(ops)) throw new Error('stdin must be a JSON list of operations')
    process.stdout.write(JSON.stringify(await run(dbfile, timestampFormat, ops)) + '\n')
  } else {
    throw new Error('usage: node interop.mjs run <dbfile> [format] < ops.json | node interop.mjs version')
  }
} catch (e) {
  process.stderr.write(`${e.stack ?? e}\n`)
  process.exit(2)
}
