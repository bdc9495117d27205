/** An error a tool reports as one clear line and a non-zero exit code. */
import { ERROR_CODES, SluiceError } from '../config/errors';

export class CliError extends SluiceError {
  constructor(message: string, readonly exitCode = 1) {
    super(ERROR_CODES.tool, message);
  }
}
