import type { Pool } from 'pg';
import type { ServiceSchema } from './scratch-database';

/** One way of doing the operation, with its own connections to a scratch database. */
export interface Variant<Input> {
  /** Short name used in the table and in the ratios. */
  key: string;
  label: string;
  open(
    url: string,
    poolSize: number,
  ): Promise<{ run(input: Input): Promise<unknown>; close(): Promise<void> }>;
}

/** An operation measured in several variants on the same schema and the same inputs. */
export interface Experiment<Input> {
  key: string;
  title: string;
  schema: ServiceSchema;
  inputs(count: number): Input[];
  /** Rows the operation needs before it runs (the catalogue). */
  seed?(pool: Pool): Promise<void>;
  /** What is wrong with the database after all `inputs` ran (empty: correct). */
  check(pool: Pool, inputs: readonly Input[]): Promise<string[]>;
  variants: Variant<Input>[];
}

/** mulberry32: the same inputs for every variant and every run. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** 1–3 distinct products of `products`, 1–3 of each, in the order picked (as a shopper sends them). */
export function randomLines(
  random: () => number,
  products: number,
): { product_id: number; quantity: number }[] {
  const count = 1 + Math.floor(random() * 3);
  const picked = new Set<number>();
  while (picked.size < count) picked.add(1 + Math.floor(random() * products));
  return [...picked].map((product_id) => ({ product_id, quantity: 1 + Math.floor(random() * 3) }));
}

/** `expected` vs `actual` for a named figure, as a problem line when they differ. */
export function mismatch(name: string, expected: unknown, actual: unknown): string[] {
  return String(expected) === String(actual)
    ? []
    : [`${name}: expected ${String(expected)}, got ${String(actual)}`];
}
