import { Controller, Get, Header } from '@nestjs/common';
import { DASHBOARD_PAGE } from './dashboard.page.js';

/** The web dashboard: one page that talks to the GraphQL API with the operator's token. */
@Controller()
export class DashboardController {
  @Get()
  @Header('content-type', 'text/html; charset=utf-8')
  @Header('cache-control', 'no-cache')
  @Header('content-security-policy', "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'")
  page(): string {
    return DASHBOARD_PAGE;
  }
}
