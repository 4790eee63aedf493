import { Body, Controller, Get, HttpCode, Inject, Post, Req, Session, UnauthorizedException } from '@nestjs/common';
import type { SessionStore } from '@redkit/session';
import { z } from 'zod';
import type { AppRequest, AppRequestSession } from '../http-request.js';
import { ZodBody } from '../zod-body.pipe.js';
import { SESSIONS } from './sessions.module.js';

const loginSchema = z.object({ userId: z.string().min(1).max(100) });

/** Calls an express-session method that takes a callback. */
function sessionCall(call: (done: (error?: unknown) => void) => void): Promise<void> {
  return new Promise((resolve, reject) => call((error) => (error ? reject(error) : resolve())));
}

/**
 * Login, who am I, logout and "log out everywhere", on express-session with
 * @redkit/session's store. A demo: login takes a user id and no password.
 */
@Controller('auth')
export class AuthController {
  constructor(@Inject(SESSIONS) private readonly sessions: SessionStore) {}

  @Post('login')
  @HttpCode(200)
  async login(
    @Req() request: AppRequest, // not @Session(): regenerate() replaces `request.session`
    @Body(new ZodBody(loginSchema, 'expected { "userId": "<1 to 100 characters>" }')) body: z.infer<typeof loginSchema>,
  ): Promise<{ userId: string }> {
    // A new session id at login, so an id planted before login is worthless (session fixation).
    await sessionCall((done) => request.session.regenerate(done));
    request.session.userId = body.userId;
    request.session.visits = 0;
    return { userId: body.userId };
  }

  @Get('me')
  me(@Session() session: AppRequestSession): { userId: string; visits: number } {
    if (!session.userId) throw new UnauthorizedException('not logged in');
    session.visits = (session.visits ?? 0) + 1;
    return { userId: session.userId, visits: session.visits };
  }

  @Post('logout')
  @HttpCode(204)
  async logout(@Session() session: AppRequestSession): Promise<void> {
    await sessionCall((done) => session.destroy(done));
  }

  /** Ends every session of the user, on every device. */
  @Post('logout-everywhere')
  @HttpCode(200)
  async logoutEverywhere(@Session() session: AppRequestSession): Promise<{ ended: number }> {
    if (!session.userId) throw new UnauthorizedException('not logged in');
    return { ended: await this.sessions.destroyAll(session.userId) };
  }
}
