/** The benchmark's safety check: both runs closed the same Tasks with the same status, and no Task of a live call. */
import type { ChildSeedResult, SeedCategory } from './emulatorProcess';
import { CATEGORIES, type SweepBenchReport } from './sweepReport';

/** Maps the unstick run's SIDs onto the baseline's by category and position, so the two seedings compare even if SIDs differ. */
export function compare(a: ChildSeedResult, b: ChildSeedResult, base: Record<string, string>, uns: Record<string, string>): SweepBenchReport['check'] {
  const toBaseline = new Map<string, string>();
  const categoryOf = new Map<string, SeedCategory>();
  let identicalSeeds = true;
  for (const c of CATEGORIES) {
    const sa = a.byCategory[c];
    const sb = b.byCategory[c];
    if (sa.length !== sb.length) identicalSeeds = false;
    sb.forEach((sid, i) => {
      const mapped = sa[i];
      if (mapped !== sid) identicalSeeds = false;
      if (mapped) toBaseline.set(sid, mapped);
    });
    for (const sid of sa) categoryOf.set(sid, c);
  }
  const unsMapped: Record<string, string> = {};
  for (const [sid, st] of Object.entries(uns)) unsMapped[toBaseline.get(sid) ?? sid] = st;
  const onlyBaseline = Object.keys(base).filter((s) => !(s in unsMapped));
  const onlyUnstick = Object.keys(unsMapped).filter((s) => !(s in base));
  const statusDiffers = Object.keys(base).filter((s) => s in unsMapped && unsMapped[s] !== base[s]);
  const byCat = (closed: Record<string, string>) => {
    const out = { voiceEnded: 0, voiceLive: 0, chat: 0, unparsable: 0 } as Record<SeedCategory, number>;
    for (const sid of Object.keys(closed)) {
      const c = categoryOf.get(sid);
      if (c) out[c]++;
    }
    return out;
  };
  const closedByCategory = { baseline: byCat(base), unstick: byCat(unsMapped) };
  const liveCallTasksClosed = { baseline: closedByCategory.baseline.voiceLive, unstick: closedByCategory.unstick.voiceLive };
  const sameTasksClosed = onlyBaseline.length === 0 && onlyUnstick.length === 0 && statusDiffers.length === 0;
  return {
    sameTasksClosed,
    identicalSeeds,
    baselineClosed: Object.keys(base).length,
    unstickClosed: Object.keys(unsMapped).length,
    onlyBaseline: onlyBaseline.slice(0, 20),
    onlyUnstick: onlyUnstick.slice(0, 20),
    statusDiffers: statusDiffers.slice(0, 20),
    liveCallTasksClosed,
    closedByCategory,
    pass: sameTasksClosed && liveCallTasksClosed.baseline === 0 && liveCallTasksClosed.unstick === 0,
  };
}
