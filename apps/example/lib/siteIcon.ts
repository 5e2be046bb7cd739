/**
 * The site icon of both example apps, inline as a data URL, so browsers do not request a /favicon.ico that
 * does not exist.
 */
export const SITE_ICON =
  "data:image/svg+xml," +
  encodeURIComponent(
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="7" fill="#2b48c8"/><path d="M9 27V14l7-6 7 6v13h-5v-7h-4v7z" fill="#fff"/></svg>',
  );
