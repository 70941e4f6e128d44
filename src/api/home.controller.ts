import { Controller, Get, Redirect } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { DOCS_PATH } from './openapi';

/**
 * `GET /`: the address `flamebill serve` prints. The dashboard pages are not built yet; until they are, a person
 * who opens it lands on the API's documentation and UI rather than on a 404.
 */
@ApiTags('service')
@Controller()
export class HomeController {
  @Get()
  @Redirect(`/${DOCS_PATH}`, 302)
  @ApiOperation({
    summary: 'The service address: redirects to the API documentation (/api/docs) until the dashboard pages exist',
  })
  @ApiResponse({ status: 302, description: 'to /api/docs' })
  home(): void {}
}
