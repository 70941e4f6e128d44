import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';

/** Where the document and its UI are served (open: the document holds no data). */
export const DOCS_PATH = 'api/docs';

/** The OpenAPI document of the application's routes, generated from the controllers' decorators. */
export function openApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('flamebill finance API')
    .setDescription(
      'Costs from continuous profiles, per team, service and function. Every /api/v1 route needs an API key (Authorization: Bearer <key>) ' +
        'with the scope it names; money is {"microdollars","dollars"} strings; errors are {"statusCode","error","message","param"?}. See docs/api.md.',
    )
    .setVersion('1')
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'an API key from `flamebill apikey create`' })
    .build();
  return SwaggerModule.createDocument(app, config);
}

/** Serves the document (`/api/docs-json`, `/api/docs-yaml`) and the UI (`/api/docs`). */
export function serveOpenApi(app: INestApplication): void {
  SwaggerModule.setup(DOCS_PATH, app, () => openApiDocument(app), {
    jsonDocumentUrl: `${DOCS_PATH}/openapi.json`,
    yamlDocumentUrl: `${DOCS_PATH}/openapi.yaml`,
  });
}
