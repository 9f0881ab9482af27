/** Content-Disposition for a download: an ASCII fallback name and the exact name as RFC 6266's filename*. */
export function attachment(filename: string): Record<string, string> {
  const ascii = filename.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return { 'Content-Disposition': `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(filename)}` };
}
