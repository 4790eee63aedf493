/**
 * The typed-jobs vocabulary of the BullMQ part: a job's data and result
 * schemas, the types derived from them for `add`, handlers and results, and
 * `defineJob` to declare them with their types kept.
 */
import type { Job } from 'bullmq';
import type { z } from 'zod';

/** A job's schemas: its data and, optionally, the result its handler returns. */
export interface JobDefinition<
  Data extends z.ZodType = z.ZodType,
  Result extends z.ZodType | undefined = z.ZodType | undefined,
> {
  /** Zod schema of the job's data: checked on add and before the handler runs. */
  readonly data: Data;
  /** Zod schema of the handler's result: checked before the job completes. */
  readonly result?: Result;
}

/** The jobs of one queue, by job name. */
export type JobDefinitions = Record<string, JobDefinition>;

/** What `add` accepts as the data of job `Name` (the data schema's input). */
export type JobDataInput<Jobs extends JobDefinitions, Name extends keyof Jobs> = z.input<Jobs[Name]['data']>;
/** The data a handler of job `Name` receives (the data schema's output). */
export type JobData<Jobs extends JobDefinitions, Name extends keyof Jobs> = z.output<Jobs[Name]['data']>;
/** The result schema of job `Name`, or `undefined` when it has none. */
type ResultSchemaOf<Jobs extends JobDefinitions, Name extends keyof Jobs> = [Jobs[Name]['result']] extends [undefined]
  ? undefined
  : NonNullable<Jobs[Name]['result']>;
/** What a handler of job `Name` returns (the result schema's input; anything without a result schema). */
export type JobResultInput<Jobs extends JobDefinitions, Name extends keyof Jobs> =
  ResultSchemaOf<Jobs, Name> extends z.ZodType ? z.input<ResultSchemaOf<Jobs, Name>> : unknown;
/** A completed job's stored result (the result schema's output). */
export type JobResult<Jobs extends JobDefinitions, Name extends keyof Jobs> =
  ResultSchemaOf<Jobs, Name> extends z.ZodType ? z.output<ResultSchemaOf<Jobs, Name>> : unknown;

/** A BullMQ job of `Name`, typed by its schemas. */
export type TypedJob<Jobs extends JobDefinitions, Name extends keyof Jobs & string> = Job<
  JobData<Jobs, Name>,
  JobResult<Jobs, Name>,
  Name
>;

/** Handles one job; its result is checked against the result schema. */
export type JobHandler<Jobs extends JobDefinitions, Name extends keyof Jobs & string> = (
  data: JobData<Jobs, Name>,
  job: TypedJob<Jobs, Name>,
) => JobResultInput<Jobs, Name> | Promise<JobResultInput<Jobs, Name>>;

/** One handler per job name. */
export type JobHandlers<Jobs extends JobDefinitions> = { [Name in keyof Jobs & string]: JobHandler<Jobs, Name> };

/**
 * Declares one job's schemas with their types kept (a typed identity).
 *
 * @example
 * ```ts
 * const jobs = {
 *   'send-email': defineJob({ data: z.object({ to: z.email() }), result: z.object({ id: z.string() }) }),
 * }
 * ```
 */
export function defineJob<Data extends z.ZodType, Result extends z.ZodType | undefined = undefined>(
  definition: JobDefinition<Data, Result>,
): JobDefinition<Data, Result> {
  return definition;
}
