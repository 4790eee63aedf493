import { BadRequestException, type PipeTransform } from '@nestjs/common';
import type { z } from 'zod';

/**
 * Validates a request body with a zod schema: `@Body(new ZodBody(schema, message)) body`.
 * Answers 400 with `message` when the body does not match.
 */
export class ZodBody<Schema extends z.ZodType> implements PipeTransform<unknown, z.infer<Schema>> {
  constructor(
    private readonly schema: Schema,
    private readonly message: string,
  ) {}

  transform(value: unknown): z.infer<Schema> {
    const parsed = this.schema.safeParse(value);
    if (!parsed.success) throw new BadRequestException(this.message);
    return parsed.data;
  }
}
