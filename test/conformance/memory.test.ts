import { after, describe, it } from 'node:test'
import { MemoryDriver } from '../../src/drivers/memory.js'
import { runDriverConformance } from '../../src/testing/conformance.js'

runDriverConformance({ name: 'memory', create: () => new MemoryDriver(), describe, it, after })
