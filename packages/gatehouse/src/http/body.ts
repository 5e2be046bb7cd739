import { InvalidJsonError, UnsupportedMediaTypeError } from "../errors.js";

/** A parsed request body and the form it came in. */
export type ParsedBody =
  | { kind: "json"; data: unknown }
  | { kind: "form"; data: Record<string, string> }
  | { kind: "empty" };

export const JSON_TYPE = "application/json";
export const FORM_TYPE = "application/x-www-form-urlencoded";

/** The media type of a `Content-Type` header, lower-cased and without parameters. */
export function mediaType(contentType: string | undefined): string | undefined {
  return contentType?.split(";", 1)[0]?.trim().toLowerCase() || undefined;
}

/**
 * Parses a body as JSON, or as an HTML form when `acceptForm` is set. Throws `UnsupportedMediaTypeError`
 * for other types and `InvalidJsonError` for malformed JSON.
 */
export function parseBody(text: string, contentType: string | undefined, acceptForm: boolean): ParsedBody {
  const type = mediaType(contentType);
  if (type === JSON_TYPE) {
    if (text.trim() === "") return { kind: "empty" };
    try {
      return { kind: "json", data: JSON.parse(text) };
    } catch {
      throw new InvalidJsonError();
    }
  }
  if (acceptForm && type === FORM_TYPE) {
    const data: Record<string, string> = Object.create(null);
    for (const [key, value] of new URLSearchParams(text)) data[key] = value;
    return { kind: "form", data };
  }
  if (type === undefined && text.length === 0) return { kind: "empty" };
  throw new UnsupportedMediaTypeError(acceptForm ? [JSON_TYPE, FORM_TYPE] : [JSON_TYPE]);
}
