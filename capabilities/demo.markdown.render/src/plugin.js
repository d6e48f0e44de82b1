// demo.markdown.render: Markdown -> HTML with the npm library `marked`.
//
// Built by capsule build (src/authoring/js.ts: esbuild bundle + componentize-js) against the `capability`
// world of wit/capsule.wit:
//   import capsule:host/log;  export run: func(input: string) -> result<string, string>;
//
// How componentize-js maps the result: a returned string is `ok`; a thrown string (or an object
// with an own `payload` property) is `err`. A thrown Error instance is NOT turned into `err`:
// the component traps instead, so every failure below is thrown as a plain string.
import { log } from 'capsule:host/log';
import { Marked } from 'marked';

// A private instance: no global marked state, synchronous parsing only.
const marked = new Marked({ async: false });

function parseRequest(input) {
  let request;
  try {
    request = JSON.parse(input);
  } catch {
    throw 'input is not valid JSON';
  }
  if (request === null || typeof request !== 'object' || Array.isArray(request)) throw 'input must be a JSON object';
  if (typeof request.markdown !== 'string') throw '"markdown" must be a string';
  if (request.gfm !== undefined && typeof request.gfm !== 'boolean') throw '"gfm" must be a boolean';
  return request;
}

/** @param {string} input JSON `{ "markdown": string, "gfm"?: boolean }` -> JSON `{ "html": string }` */
export function run(input) {
  // Uses the granted host interface: one debug line per call.
  log('debug', `markdown.render: input of ${input.length} chars`);
  const { markdown, gfm = true } = parseRequest(input);
  let html;
  try {
    html = marked.parse(markdown, { gfm, async: false });
  } catch (e) {
    throw `markdown rendering failed: ${e instanceof Error ? e.message : String(e)}`;
  }
  return JSON.stringify({ html });
}
