/**
 * Jobs: training, fine-tuning, batch inference and evaluation runs as a cost dimension. A job's
 * spans carry (on themselves, an ancestor or the resource) the job's id and kind; epoch spans
 * carry their epoch, and the span that processed samples carries how many. See docs/jobs.md.
 */
export const JobAttr = {
  /** The job's id, unique per run (e.g. the scheduler's run id). Inherited from ancestors and the resource. */
  id: 'costtrace.job.id',
  /** One of JOB_KINDS (other values are kept as written). Inherited like the id. */
  kind: 'costtrace.job.kind',
  /**
   * The model the job trains, fine-tunes or evaluates, named as the spans that serve it name it
   * (`gen_ai.request.model`, versioned names included, e.g. `support-bot-v3`), so a model's
   * training and inference cost meet. Inherited like the id; stored as the span's model when the
   * span has no GenAI model of its own.
   */
  model: 'costtrace.job.model',
  /** The epoch a span belongs to: a whole number ≥ 0. Inherited from the epoch span by its children. */
  epoch: 'costtrace.job.epoch',
  /**
   * Samples the span itself processed: a whole number ≥ 0. Never inherited: put it on the spans
   * that do the work once (e.g. each epoch span, not also the job span above them).
   */
  samples: 'costtrace.job.samples',
} as const;

/** The standard job kinds. */
export const JOB_KINDS = ['training', 'fine_tuning', 'batch_inference', 'evaluation'] as const;
export type JobKind = (typeof JOB_KINDS)[number];

/** Job kinds whose cost is a model's training cost (the rest, and spans outside jobs, serve it). */
export const TRAINING_JOB_KINDS: readonly string[] = ['training', 'fine_tuning'];

/** Largest epoch and sample count accepted on one span. */
export const MAX_JOB_EPOCH = 1_000_000_000;
export const MAX_JOB_SAMPLES = 10 ** 15;

/**
 * A job counter (epoch or samples) as a span attribute holds it: an integer, or a string of
 * digits, from 0 to `max`. Undefined when the value is not one (the caller notes the fix).
 */
export function readJobCount(value: unknown, max: number): number | undefined {
  let n: number;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'bigint') n = value <= BigInt(max) && value >= 0n ? Number(value) : -1;
  else if (typeof value === 'string' && /^\d{1,19}$/.test(value)) n = Number(value);
  else return undefined;
  return Number.isSafeInteger(n) && n >= 0 && n <= max ? n : undefined;
}
