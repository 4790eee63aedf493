import {
  BadRequestException,
  Controller,
  Get,
  HttpCode,
  Inject,
  Post,
  Scope,
  UnauthorizedException,
} from '@nestjs/common';
import { REQUEST } from '@nestjs/core';
import type { SessionStore } from '@redkit/session';
import { z } from 'zod';
import type { AppRequest } from '../http-request.js';
import { SESSIONS } from './sessions.module.js';

const loginSchema = z.object({ userId: z.string().min(1).max(100) });

/** Calls an express-session method that takes a callback. */
function sessionCall(call: (done: (error?: unknown) => void) => void): Promise<void> {
  return new Promise((resolve, reject) => call((error) => (error ? reject(error) : resolve())));
}

/**
 * Login, who am I, logout and "log out everywhere", on express-session with
 * @redkit/session's store. A demo: login takes a user id and no password.
 * (Request-scoped for the reason given on ProductsController.)
 */
@Controller({ path: 'auth', scope: Scope.REQUEST })
export class AuthController {
  @Inject(REQUEST)
  private readonly request!: AppRequest;
  @Inject(SESSIONS)
  private readonly sessions!: SessionStore;

  @Post('login')
  @HttpCode(200)
  async login(): Promise<{ userId: string }> {
    const body = loginSchema.safeParse(this.request.body);
    if (!body.success) throw new BadRequestException('expected { "userId": "<1 to 100 characters>" }');
    // A new session id at login, so an id planted before login is worthless (session fixation).
    await sessionCall((done) => this.request.session.regenerate(done));
    this.request.session.userId = body.data.userId;
    this.request.session.visits = 0;
    return { userId: body.data.userId };
  }

  @Get('me')
  me(): { userId: string; visits: number } {
    const { session } = this.request;
    if (!session.userId) throw new UnauthorizedException('not logged in');
    session.visits = (session.visits ?? 0) + 1;
    return { userId: session.userId, visits: session.visits };
  }

  @Post('logout')
  @HttpCode(204)
  async logout(): Promise<void> {
    await sessionCall((done) => this.request.session.destroy(done));
  }

  /** Ends every session of the user, on every device. */
  @Post('logout-everywhere')
  @HttpCode(200)
  async logoutEverywhere(): Promise<{ ended: number }> {
    const { userId } = this.request.session;
    if (!userId) throw new UnauthorizedException('not logged in');
    return { ended: await this.sessions.destroyAll(userId) };
  }
}
