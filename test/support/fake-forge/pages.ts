/** One page of a list, as the forges cut them: `page`, a page size capped at `max`, and `Link` URLs. */
export interface Page<T> {
  items: T[];
  page: number;
  /** The last page's number (1 for an empty list). */
  last: number;
  size: number;
  /** The `<url>; rel="…"` entry of a `Link` header for page `p`. */
  link(p: number, rel: string): string;
}

export function pageOf<T>(
  all: T[],
  query: URLSearchParams,
  options: { sizeParam: string; max: number; fallback: number; url: string },
): Page<T> {
  const requested = Number(query.get(options.sizeParam) ?? options.fallback);
  const size = Math.min(options.max, Math.max(1, Number.isFinite(requested) ? requested : options.fallback));
  const page = Math.max(1, Number(query.get("page") ?? 1) || 1);
  return {
    items: all.slice((page - 1) * size, page * size),
    page,
    last: Math.max(1, Math.ceil(all.length / size)),
    size,
    link(p, rel) {
      const q = new URLSearchParams(query);
      q.set("page", String(p));
      q.set(options.sizeParam, String(size));
      return `<${options.url}?${q}>; rel="${rel}"`;
    },
  };
}
