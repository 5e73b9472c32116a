import { SingleBar, Presets } from 'cli-progress';

/**
 * Progress for a run that takes minutes: one line per step (always, so CI logs show where a run
 * is), plus a bar for steps with a known total when stdout is a terminal.
 */
export function step(text: string): void {
  console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${text}`);
}

export interface Bar {
  update(value: number): void;
  stop(): void;
}

export function bar(label: string, total: number): Bar {
  if (!process.stdout.isTTY) return { update: () => undefined, stop: () => undefined };
  const progress = new SingleBar(
    {
      format: `  ${label.padEnd(28)} [{bar}] {percentage}% | {value}/{total} | {duration_formatted}`,
      hideCursor: true,
    },
    Presets.shades_classic,
  );
  progress.start(total, 0);
  return { update: (value) => progress.update(Math.min(value, total)), stop: () => progress.stop() };
}

/** A bar that fills with elapsed time, for fixed-duration load runs. */
export function timedBar(label: string, seconds: number): Bar {
  const progress = bar(label, seconds);
  const started = Date.now();
  const timer = setInterval(() => progress.update(Math.round((Date.now() - started) / 1000)), 250);
  return {
    update: progress.update,
    stop: () => {
      clearInterval(timer);
      progress.update(seconds);
      progress.stop();
    },
  };
}
