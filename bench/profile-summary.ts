/**
 * `npx tsx bench/profile-summary.ts <file.cpuprofile> [top]` — where a service spent its CPU in a
 * `--cpu-prof` profile (as `npm run bench -- --cpu-prof=order-service` keeps one): self time by
 * package / area and by function.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  children?: number[];
  hitCount?: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

const [file, topArg] = process.argv.slice(2);
if (!file) {
  console.error('usage: tsx bench/profile-summary.ts <file.cpuprofile> [top]');
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, 'utf8')) as {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
};
const top = Number(topArg ?? 25);
const totalHits = profile.nodes.reduce((sum, node) => sum + (node.hitCount ?? 0), 0);
const msPerHit = (profile.endTime - profile.startTime) / 1000 / Math.max(1, profile.samples.length);

function areaOf(url: string, name: string): string {
  if (!url) return name.startsWith('(') ? name : '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1];
  if (url.startsWith('node:')) return url;
  const ours = /\/work\/[^/]+\/([^/]+)\//.exec(url) ?? /\/([^/]+)\/dist\//.exec(url);
  return ours ? `@shop/${ours[1]}` : url;
}

const byArea = new Map<string, number>();
const byFunction = new Map<string, number>();
for (const node of profile.nodes) {
  const hits = node.hitCount ?? 0;
  if (!hits) continue;
  const { functionName, url, lineNumber } = node.callFrame;
  const area = areaOf(url, functionName);
  byArea.set(area, (byArea.get(area) ?? 0) + hits);
  const key = `${functionName || '(anonymous)'}  ${area}${url ? `:${lineNumber + 1}` : ''}`;
  byFunction.set(key, (byFunction.get(key) ?? 0) + hits);
}

// Inclusive: a sample counts for every area anywhere on its stack (once per area).
const parentOf = new Map<number, number>();
for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
const nodeById = new Map(profile.nodes.map((node) => [node.id, node]));
const inclusive = new Map<string, number>();
for (const node of profile.nodes) {
  const hits = node.hitCount ?? 0;
  if (!hits || node.callFrame.functionName === '(idle)') continue;
  const areas = new Set<string>();
  for (let id: number | undefined = node.id; id !== undefined; id = parentOf.get(id)) {
    const frame = nodeById.get(id)!.callFrame;
    if (frame.url) areas.add(areaOf(frame.url, frame.functionName));
  }
  for (const area of areas) inclusive.set(area, (inclusive.get(area) ?? 0) + hits);
}

const show = (title: string, map: Map<string, number>) => {
  console.log(`\n${title}`);
  for (const [key, hits] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(
      `${((100 * hits) / totalHits).toFixed(1).padStart(5)}%  ${(hits * msPerHit).toFixed(0).padStart(6)} ms  ${key}`,
    );
  }
};
console.log(`${file}: ${((totalHits * msPerHit) / 1000).toFixed(1)} s sampled`);
show('self time by area', byArea);
show('inclusive time by area (stack contains it)', inclusive);
show('self time by function', byFunction);
