import { Body, Controller, Get, Inject, NotFoundException, Param, ParseIntPipe, Put } from '@nestjs/common';
import { z } from 'zod';
import { ZodBody } from '../zod-body.pipe.js';
import type { Product } from './products.repository.js';
import { ProductsService } from './products.service.js';

const priceSchema = z.object({ price: z.number().positive() });

/** GET /products/:id (cached), PUT /products/:id { price } (write-through). */
@Controller('products')
export class ProductsController {
  // Every constructor parameter in this app names its token with @Inject(): tsx and
  // esbuild emit no decorator metadata (emitDecoratorMetadata) for Nest to read types from.
  constructor(@Inject(ProductsService) private readonly products: ProductsService) {}

  @Get(':id')
  async findOne(@Param('id', ParseIntPipe) id: number): Promise<Product> {
    const product = await this.products.find(id);
    if (!product) throw new NotFoundException(`no product ${id}`);
    return product;
  }

  @Put(':id')
  async updatePrice(
    @Param('id', ParseIntPipe) id: number,
    @Body(new ZodBody(priceSchema, 'expected { "price": <positive number> }')) body: z.infer<typeof priceSchema>,
  ): Promise<Product> {
    const product = await this.products.updatePrice(id, body.price);
    if (!product) throw new NotFoundException(`no product ${id}`);
    return product;
  }
}
