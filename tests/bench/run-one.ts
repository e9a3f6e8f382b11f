/**
 * Runs one benchmark function in this process and prints its figures as JSON on the last line.
 * `tsx tests/bench/run-one.ts <module file> <export name> [--quick]`; DATABASE_URL is set by run.ts.
 */
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import type { Bench } from './types'

const [file, exportName] = process.argv.slice(2)
const quick = process.argv.includes('--quick')
const mod = (await import(pathToFileURL(path.resolve(file)).href)) as Record<string, Bench>
const bench = mod[exportName]
if (typeof bench !== 'function') throw new Error(`${file} does not export ${exportName}`)
const figures = await bench({ quick })
console.log(`\n${JSON.stringify(figures)}`)
process.exit(0)
