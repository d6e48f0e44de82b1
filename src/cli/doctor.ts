// `capsule doctor [--json]`: Node, each tier and why it is or is not usable here.
import { doctor, type DoctorReport } from '../doctor.js';
import type { ParsedArgs } from './args.js';
import { table } from './format.js';

export async function doctorCommand(a: ParsedArgs): Promise<number> {
  const report = await doctor();
  process.stdout.write(a.values.json ? `${JSON.stringify(report, null, 2)}\n` : render(report));
  return 0;
}

const yes = (b: boolean) => (b ? 'yes' : 'no');

function render(r: DoctorReport): string {
  const macos = r.host.macosVersion ? ` (macOS ${r.host.macosVersion})` : '';
  return [
    `node   ${r.node.version}, permission model: ${r.node.permissionFlag ?? 'none'}`,
    `host   ${r.host.name}${macos}`,
    '',
    table(
      ['TIER', 'USABLE', 'RUNNER', 'WHY'],
      r.tiers.map((t) => [t.tier, yes(t.available), t.runner, t.reason]),
    ),
    '',
    table(
      ['RUNNER', 'USABLE', 'VERSION', 'WHY'],
      r.runners.map((p) => [p.name, yes(p.available), p.version ?? '-', p.reason]),
    ),
    '',
    ...(r.vmImage ? [`vm image  ${r.vmImage.reason}`, ''] : []),
    ...(r.egress.length > 0
      ? [
          table(
            ['EGRESS (net grants of containers)', 'USABLE', 'WHY'],
            r.egress.map((e) => [e.runner, yes(e.available), e.reason]),
          ),
          '',
        ]
      : []),
    ...(r.vmFlags.length > 0
      ? [
          table(
            ['APPLE CONTAINER FLAG', 'SINCE', 'HERE'],
            r.vmFlags.map((f) => [f.flag, f.since, yes(f.supported)]),
          ),
          '',
        ]
      : []),
  ].join('\n');
}
