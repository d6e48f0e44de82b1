// The tool catalog (README: Tool catalog): capabilities as tools for a model's
// tool-calling API, and a tool-call loop against a fake model (no network).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, type Runtime, type Tool } from '../dist/index.js';
import { CAPABILITIES, cli, failure } from './helpers.js';

let rt: Runtime;
beforeAll(async () => {
  rt = await createRuntime({ capabilitiesDir: CAPABILITIES, pool: { minThreads: 1, maxThreads: 1 } });
});
afterAll(() => rt.close());

type Message = { role: 'user' | 'tool'; content: string; name?: string };
type Reply = { toolCalls: { name: string; arguments: unknown }[] } | { text: string };

/** A fake model: first asks for word counts through a tool, then answers from the tool's result. */
function fakeModel(tools: Tool[], messages: Message[]): Reply {
  const last = messages.at(-1);
  if (last?.role === 'tool') return { text: `The text has ${(JSON.parse(last.content) as { words: number }).words} words.` };
  const wc = tools.find((t) => t.description.startsWith('Counts words'));
  if (!wc) return { text: 'no tool' };
  return { toolCalls: [{ name: wc.name, arguments: { text: last?.content ?? '' } }] };
}

describe('rt.tools() and rt.callTool()', () => {
  it('lists each capability with a model-valid name, description and schemas', () => {
    const tools = rt.tools();
    const byName = new Map(tools.map((t) => [t.name, t]));
    for (const t of tools) expect(t.name).toMatch(/^[a-zA-Z0-9_-]{1,64}$/);
    expect(byName.get('demo_text_wordcount')).toMatchObject({
      capability: 'demo.text.wordcount',
      inputSchema: { type: 'object', required: ['text'] },
      outputSchema: { type: 'object', required: ['words', 'lines', 'chars'] },
    });
    // A command-world capability takes { args, stdin } and returns { exitCode, stdout, stderr }.
    expect(byName.get('demo_text_wc')).toMatchObject({
      inputSchema: { type: 'object', properties: { args: { type: 'array' }, stdin: { type: 'string' } } },
      outputSchema: { required: ['exitCode', 'stdout', 'stderr'] },
    });
  });

  it('a model tool-call loop runs a tool and answers from its result', async () => {
    const tools = rt.tools();
    const messages: Message[] = [{ role: 'user', content: 'one two three' }];
    let answer = '';
    for (let turn = 0; turn < 4 && !answer; turn++) {
      const reply = fakeModel(tools, messages);
      if ('text' in reply) answer = reply.text;
      else
        for (const call of reply.toolCalls) {
          const { output } = await rt.callTool(call.name, call.arguments);
          messages.push({ role: 'tool', name: call.name, content: JSON.stringify(output) });
        }
    }
    expect(answer).toBe('The text has 3 words.');
  });

  it('an unknown tool name is CAPABILITY_NOT_FOUND', async () => {
    expect((await failure(rt.callTool('demo_nope', {}))).code).toBe('CAPABILITY_NOT_FOUND');
  });

  it('capsule list --json gives each capability its tool name', () => {
    const r = cli(['list', '--json', '--capabilities', CAPABILITIES]);
    expect(r.status).toBe(0);
    const rows = JSON.parse(r.stdout) as { id: string; tool?: string }[];
    expect(rows.find((x) => x.id === 'demo.echo')?.tool).toBe('demo_echo');
  });
});
