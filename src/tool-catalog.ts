// Capabilities as tools for a model's tool-calling API (README: Tool catalog):
// each gets a name such APIs accept (^[a-zA-Z0-9_-]{1,64}$), its description and
// its input and output JSON Schemas. Ids are dot-separated [a-z0-9-] segments, so
// `.` → `_` is reversible; an id too long for 64 characters keeps a prefix and a
// hash of the whole id. Runtime.callTool maps a name back through the catalog.
import { createHash } from 'node:crypto';
import type { Manifest } from './registry/manifest.js';

export interface Tool {
  /** `demo.text.wordcount` → `demo_text_wordcount`. */
  name: string;
  /** The capability id the tool runs. */
  capability: string;
  description: string;
  /** JSON Schema of the tool's arguments (the capability's input). */
  inputSchema: unknown;
  /** JSON Schema of its result (the capability's output). */
  outputSchema: unknown;
}

const MAX_NAME = 64;

/** The tool name of a capability id. */
export function toolName(id: string): string {
  const name = id.replaceAll('.', '_');
  if (name.length <= MAX_NAME) return name;
  const hash = createHash('sha256').update(id).digest('hex').slice(0, 12);
  return `${name.slice(0, MAX_NAME - hash.length - 1)}_${hash}`;
}

/** A command-world capability's input and output, as capsule passes them. */
const COMMAND_INPUT = {
  type: 'object',
  properties: { args: { type: 'array', items: { type: 'string' } }, stdin: { type: 'string' } },
  additionalProperties: false,
};
const COMMAND_OUTPUT = {
  type: 'object',
  required: ['exitCode', 'stdout', 'stderr'],
  properties: { exitCode: { type: 'integer' }, stdout: { type: 'string' }, stderr: { type: 'string' } },
};

/** A capability-world capability without a schema takes and returns any JSON; tool APIs want an object for arguments. */
const ANY_OBJECT = { type: 'object' };

export function toolOf(m: Manifest): Tool {
  const command = m.world === 'command';
  return {
    name: toolName(m.id),
    capability: m.id,
    description: m.description ?? m.id,
    inputSchema: command ? COMMAND_INPUT : (m.inputSchema ?? ANY_OBJECT),
    outputSchema: command ? COMMAND_OUTPUT : (m.outputSchema ?? {}),
  };
}
