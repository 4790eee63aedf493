import { BadRequestException, Controller, Get, Inject, NotFoundException, Put, Scope } from '@nestjs/common';
import { REQUEST } from '@nestjs/core';
import { z } from 'zod';
import type { AppRequest } from '../http-request.js';
import type { Product } from './products.repository.js';
import { ProductsService } from './products.service.js';

const idSchema = z.coerce.number().int().positive();
const priceSchema = z.object({ price: z.number().positive() });

/**
 * GET /products/:id (cached), PUT /products/:id { price } (write-through).
 *
 * Request-scoped, with the request injected as a property: in your app
 * `@Param('id')` and `@Body()` do the same; this repository's linter does
 * not parse parameter decorators.
 */
@Controller({ path: 'products', scope: Scope.REQUEST })
export class ProductsController {
  @Inject(REQUEST)
  private readonly request!: AppRequest;
  @Inject(ProductsService)
  private readonly products!: ProductsService;

  @Get(':id')
  async findOne(): Promise<Product> {
    const id = this.id();
    const product = await this.products.find(id);
    if (!product) throw new NotFoundException(`no product ${id}`);
    return product;
  }

  @Put(':id')
  async updatePrice(): Promise<Product> {
    const id = this.id();
    const body = priceSchema.safeParse(this.request.body);
    if (!body.success) throw new BadRequestException('expected { "price": <positive number> }');
    const product = await this.products.updatePrice(id, body.data.price);
    if (!product) throw new NotFoundException(`no product ${id}`);
    return product;
  }

  private id(): number {
    const id = idSchema.safeParse(this.request.params.id);
    if (!id.success) throw new BadRequestException('the id must be a positive integer');
    return id.data;
  }
}
