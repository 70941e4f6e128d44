import { HttpException, HttpStatus } from '@nestjs/common';

/** The one error shape of `/api/v1`: `{"statusCode","error","message","param"?}`. */
export interface ApiErrorBody {
  readonly statusCode: number;
  readonly error: string;
  readonly message: string;
  readonly param?: string;
}

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  406: 'Not Acceptable',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export function reasonOf(status: number): string {
  return (
    REASONS[status] ??
    HttpStatus[status]
      ?.replace(/_/g, ' ')
      .toLowerCase()
      .replace(/\b\w/g, (c) => c.toUpperCase()) ??
    'Error'
  );
}

/** An answer in the API's error shape; a 400 names the parameter it is about. */
export class ApiError extends HttpException {
  constructor(
    status: number,
    message: string,
    param?: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    const body: ApiErrorBody = {
      statusCode: status,
      error: reasonOf(status),
      message,
      ...(param === undefined ? {} : { param }),
    };
    super(body, status);
  }
}

/** A parameter the API cannot answer: 400 naming it, the message starting with `param: `. */
export class ParamError extends ApiError {
  constructor(param: string, message: string) {
    super(400, `${param}: ${message}`, param);
  }
}
